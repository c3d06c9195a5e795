"""Configuration: one pydantic-settings class, `DSAR_` environment prefix, every field described.

Secrets left at their development defaults are refused outside development (`DSAR_ENV=production`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DSAR_", env_file=".env", extra="ignore")

    env: str = Field("development", description="development | test | production; production refuses dev secrets")
    data_dir: Path = Field(Path("var"), description="Where the SQLite file, rendered notices and raw mail live")
    database_url: str = Field("", description="SQLAlchemy URL; empty means a SQLite file in data_dir")

    broker_url: str = Field("redis://127.0.0.1:6379/0", description="Celery broker (Redis)")
    result_backend: str = Field("", description="Celery result backend; empty means none (tasks write to the DB)")
    celery_eager: bool = Field(False, description="Run tasks inline without a broker (the demo's default)")

    workflows_dir: Path = Field(PROJECT_ROOT / "workflows", description="Workflow definitions (YAML)")
    templates_dir: Path = Field(PROJECT_ROOT / "templates", description="Jinja2 templates (notices, e-mails, pages)")
    output_dir: Path = Field(Path(""), description="Rendered notices; empty means data_dir/notices")

    mail_transport: str = Field("smtp", description="smtp | file (write .eml files to data_dir/outbox, for demos)")
    smtp_host: str = Field("127.0.0.1", description="SMTP server for outgoing mail")
    smtp_port: int = Field(1025, description="SMTP port")
    smtp_user: str = Field("", description="SMTP user name (empty: no login)")
    smtp_password: str = Field("", description="SMTP password")
    smtp_starttls: bool = Field(False, description="Use STARTTLS")
    mail_from: str = Field("privacy-desk@dsar.local", description="From address of acknowledgements and notices")

    secret_key: str = Field(DEV_SECRET, description="Signs sessions and webhook HMACs; must be set in production")
    webhook_token: str = Field("", description="Shared secret the mail system sends as X-DSAR-Token (empty: off)")
    default_org: str = Field("", description="Slug of the organisation that receives mail no address matches")
    duplicate_window_days: int = Field(30, description="Same requester + same right within this window is a duplicate")
    extra_holidays: list[str] = Field(
        default_factory=list, description="Operator-added closed days (임시공휴일 etc.) as YYYY-MM-DD, JSON list"
    )
    internal_days_without_delay: int = Field(
        10, description="Internal target in days for rights the law says to answer 'without delay' (not statutory)"
    )

    @model_validator(mode="after")
    def _refuse_dev_secrets(self) -> Settings:
        if self.env == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("DSAR_SECRET_KEY is still the development default: set a long random value")
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'dsar.db').resolve()}"

    @property
    def notices_dir(self) -> Path:
        return self.output_dir if str(self.output_dir) not in ("", ".") else self.data_dir / "notices"


@lru_cache
def get_settings() -> Settings:
    return Settings()
