"""Fixtures for the intake channels: the API app with a webhook token, sending tasks to the real broker, and a
private Dovecot IMAP server on a free loopback port (plain login, passwd-file user, Maildir storage)."""

from __future__ import annotations

import imaplib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.intake_channels.helpers import TOKEN, free_port


@pytest.fixture
def client(db: str, smtp_server: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    """The real FastAPI app served by uvicorn on a free loopback port (in this process, so it shares the test's
    database and settings), with the webhook token set and acknowledgements going to the loopback SMTP server;
    an HTTP client pointed at it."""
    import threading

    import uvicorn

    monkeypatch.setenv("DSAR_WEBHOOK_TOKEN", TOKEN)
    from dsar.settings import get_settings

    get_settings.cache_clear()
    from dsar.api.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", ws="none"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        yield http
    server.should_exit = True
    thread.join(timeout=15)
    get_settings.cache_clear()


@dataclass
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    root: Path

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(self.user, self.password)
        return conn

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        conn = self.connect()
        try:
            typ, data = conn.append(folder, None, None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()


def _dovecot_config(root: Path, port: int, uid: int, gid: int, login_user: str, internal_user: str) -> Path:
    (root / "run").mkdir()
    (root / "passwd").write_text(f"intake:{{PLAIN}}imap-secret:{uid}:{gid}::{root / 'home'}\n")
    config = root / "dovecot.conf"
    config.write_text(f"""\
base_dir = {root / 'run'}
instance_name = dsar-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
log_path = {root / 'dovecot.log'}
first_valid_uid = {min(uid, 100)}
default_login_user = {login_user}
default_internal_user = {internal_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root / 'passwd'}
}}
userdb {{
  driver = passwd-file
  args = {root / 'passwd'}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
""")
    return config


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A private Dovecot (installed by scripts/services) serving one user on a free loopback port."""
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
    if binary is None:
        pytest.skip("dovecot is not installed: run scripts/services (apt-get install dovecot-imapd)")
    # Dovecot's mail processes must be able to reach the mail folder, so it lives outside pytest's 0700 tmp.
    root = Path(tempfile.mkdtemp(prefix="dsar-dovecot-"))
    root.chmod(0o755)
    if os.geteuid() == 0:  # mail processes never run as root: use nobody, login/internal users of the package
        import pwd

        nobody = pwd.getpwnam("nobody")
        uid, gid, login_user, internal_user = nobody.pw_uid, nobody.pw_gid, "dovenull", "dovecot"
        (root / "home").mkdir()
        os.chown(root / "home", uid, gid)
    else:  # rootless: everything runs as us
        import getpass

        uid, gid = os.getuid(), os.getgid()
        login_user = internal_user = getpass.getuser()
        (root / "home").mkdir()
    port = free_port()
    config = _dovecot_config(root, port, uid, gid, login_user, internal_user)
    with (root / "master.log").open("wb") as log:  # -F: in the foreground, so it is our child to stop
        proc = subprocess.Popen([binary, "-F", "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
    server = Dovecot("127.0.0.1", port, "intake", "imap-secret", root)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                server.connect().logout()
                break
            except (OSError, imaplib.IMAP4.error):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("dovecot did not start: " + (root / "master.log").read_text()) from None
                time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def concurrent_worker(redis_db: object, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker with two prefork processes (tasks really run at the same time)."""
    import sys

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, DSAR_CELERY_EAGER="0")
    log_path = tmp_path / "worker2.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tasks", "worker", "-Q", "intake,notices,reminders",
             "-c", "2", "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO"],
            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while b"ready" not in log_path.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(log_path.read_text())
        time.sleep(0.1)
    yield proc
    proc.terminate()
    proc.wait(timeout=30)
