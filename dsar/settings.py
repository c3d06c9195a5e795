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
MIN_AUDIT_RETENTION_DAYS = 730  # 개인정보의 안전성 확보조치 기준: access records kept 2 years


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

    # Intake channels: dsar/api/intake.py (webhook, web form, staff entry), dsar/intake/mailbox.py (polling)
    intake_requeue_seconds: int = Field(
        300, description="A message still 'stored' (not yet processed) this long after arrival is queued again"
    )
    log_format: str = Field("json", pattern="^(json|text)$",
                            description="Process logs: json (one object per line, ids as fields) or text")
    intake_batch_size: int = Field(
        50, ge=1, le=1000, description="Messages one intake task processes in one transaction (the webhook and "
        "polls queue what arrived together as one batch)"
    )
    maildir_path: Path | None = Field(None, description="Maildir to take mail from (new/ and cur/); empty: off")
    imap_host: str = Field("", description="IMAP server to take mail from; empty: off")
    imap_port: int = Field(993, description="IMAP port (993 with imap_ssl, usually 143 without)")
    imap_user: str = Field("", description="IMAP login")
    imap_password: str = Field("", description="IMAP password")
    imap_ssl: bool = Field(True, description="Connect with TLS (IMAPS); false: plain IMAP (loopback or tests only)")
    imap_folder: str = Field("INBOX", description="IMAP folder to take mail from")
    poll_seconds: float = Field(60.0, description="Celery beat interval of the Maildir/IMAP poll")
    default_org: str = Field("", description="Slug of the organisation that receives mail no address matches")
    duplicate_window_days: int = Field(30, description="Same requester + same right within this window is a duplicate")
    extra_holidays: list[str] = Field(
        default_factory=list, description="Operator-added closed days (임시공휴일 etc.) as YYYY-MM-DD, JSON list"
    )
    internal_days_without_delay: int = Field(
        10, description="Internal target in days for rights the law says to answer 'without delay' (not statutory)"
    )
    password_time_cost: int = Field(3, ge=1, description="argon2id passes per staff password hash")
    password_memory_kib: int = Field(65536, ge=8, description="argon2id memory per staff password hash, in KiB")
    session_hours: int = Field(12, description="How long a staff console sign-in lasts, in hours")
    login_max_failures: int = Field(5, description="Failed sign-ins in a row before a staff account is locked")
    login_lock_minutes: int = Field(15, description="How long a staff account stays locked after too many failures")
    secure_cookies: bool = Field(False, description="Send console cookies over HTTPS only (set true behind TLS)")

    # Identity checks (본인확인) and reminders: dsar/verification.py, dsar/reminders.py
    verification_code_ttl_minutes: int = Field(10, description="How long an e-mail or SMS verification code is valid")
    verification_max_attempts: int = Field(5, description="Wrong entries of one verification code before it locks")
    verification_max_codes: int = Field(5, description="Verification codes one case may be sent (stops code bombing)")
    verification_remind_after_days: int = Field(
        3, description="Days after verification started before the requester is reminded once"
    )
    verification_close_after_days: int = Field(
        7, description="Days after verification started before an unverified case is closed (close_unverified)"
    )
    unverified_closure_preapproved: bool = Field(
        True, description="The officer approved the standing rule, so the automatic 본인확인 불가 종결 notice goes out "
        "without a case-by-case approval; false holds each one as a draft for the officer",
    )
    sms_transport: str = Field("log", description="SMS sender for verification codes: log (append to sms_log_file)")
    sms_log_file: Path = Field(Path(""), description="File the log SMS transport appends to; empty: data_dir/sms.log")
    reminder_sweep_seconds: float = Field(300.0, description="Celery beat interval of the deadline/verification sweep")
    reminder_chunk_size: int = Field(200, description="Reminders per task when the sweep fans work out to the workers")
    digest_hour: int = Field(8, description="Hour (Asia/Seoul) from which the daily digest of open cases is sent")
    clock_file: Path | None = Field(
        None, description="Simulated time for tests: a file holding an ISO-8601 instant that tasks read as 'now' "
        "(refused in production)",
    )

    # Personal data at rest: dsar/crypto.py (keys), dsar/retention.py (purge)
    encryption_keys: str = Field(
        "", description="Fernet keys, comma separated, newest first: the first encrypts, all decrypt "
        "(empty: encryption_key_file; outside production a development key)",
    )
    encryption_key_file: Path | None = Field(None, description="File with one Fernet key per line, newest first")
    lookup_key: str = Field(
        "", description="HMAC key of the lookup hashes (requester e-mail); never changed once data exists "
        "(empty: lookup_key_file; outside production a development key)",
    )
    lookup_key_file: Path | None = Field(None, description="File whose first line is the lookup key")
    retention_days: int = Field(
        1095, description="Days after a case is closed before its personal data and messages are purged (default "
        "3 years, the longest record-keeping period in LEGAL.md: 전송요구 records; not a statutory period for cases)",
    )

    # Audit log: dsar/audit.py (chains), dsar/audit_anchors.py (signed checkpoints), dsar/audit_review.py
    anchor_key: str = Field(
        "", description="HMAC key that signs audit anchors; keep it out of the database (empty: anchor_key_file, "
        "else a development key derived from secret_key, refused in production)",
    )
    anchor_key_file: Path | None = Field(None, description="File holding the anchor HMAC key (instead of anchor_key)")
    anchor_dir: Path = Field(Path(""), description="Directory of the append-only anchor log; empty: data_dir/anchors")
    anchor_interval_seconds: float = Field(86400.0, description="How often Celery beat writes an audit anchor")
    audit_retention_days: int = Field(
        730, description="Days audit events are kept (at least 730, 안전성 확보조치 기준); the app never deletes them"
    )

    @model_validator(mode="after")
    def _production_ready(self) -> Settings:
        """Production refuses development secrets and test-only switches, naming every problem at once."""
        problems = [] if self.env != "production" else [
            message for bad, message in (
                (self.secret_key == DEV_SECRET,
                 "DSAR_SECRET_KEY is still the development default: set a long random value"),
                (_unset(self.anchor_key, self.anchor_key_file),
                 "DSAR_ANCHOR_KEY or DSAR_ANCHOR_KEY_FILE must be set: audit anchors signed with the development "
                 "key prove nothing"),
                (self.clock_file is not None and str(self.clock_file) not in ("", "."),
                 "DSAR_CLOCK_FILE is a test-only simulated clock: unset it"),
                (_unset(self.encryption_keys, self.encryption_key_file),
                 "DSAR_ENCRYPTION_KEYS (or DSAR_ENCRYPTION_KEY_FILE) is not set: make a key with `dsar keys generate`"),
                (_unset(self.lookup_key, self.lookup_key_file),
                 "DSAR_LOOKUP_KEY (or DSAR_LOOKUP_KEY_FILE) is not set: a long random value"),
            ) if bad
        ]
        if self.audit_retention_days < MIN_AUDIT_RETENTION_DAYS:
            problems.append(f"DSAR_AUDIT_RETENTION_DAYS={self.audit_retention_days}은(는) 너무 짧습니다: 접속기록은 "
                            f"최소 {MIN_AUDIT_RETENTION_DAYS}일(2년) 보관해야 합니다 (안전성 확보조치 기준; "
                            f"audit records must be kept at least {MIN_AUDIT_RETENTION_DAYS} days)")
        if self.retention_days < 1:
            problems.append("DSAR_RETENTION_DAYS must be at least 1")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'dsar.db').resolve()}"

    @property
    def anchors_dir(self) -> Path:
        return self.anchor_dir if str(self.anchor_dir) not in ("", ".") else self.data_dir / "anchors"

    @property
    def notices_dir(self) -> Path:
        return self.output_dir if str(self.output_dir) not in ("", ".") else self.data_dir / "notices"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def _unset(value: str, file: Path | None) -> bool:
    """A secret given neither directly nor as a file."""
    return not value and str(file or "") in ("", ".")
