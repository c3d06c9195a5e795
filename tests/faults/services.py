"""Private Redis and PostgreSQL servers for the fault tests: stopped, crashed and restarted at will without
touching the shared servers the rest of the suite uses.

Each listens on a free loopback port and lives in a temporary folder removed at the end. PostgreSQL never runs
as root: as root the cluster is made and driven as the `postgres` OS user (`su postgres -c ...`). A missing
binary is a failure with the package to install, not a skip (scripts/services installs both).
"""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import free_port


def _binary(name: str, *candidates: str) -> str:
    found = shutil.which(name) or next((c for c in candidates if os.access(c, os.X_OK)), None)
    if found is None:
        pytest.fail(f"{name} is not installed: run scripts/services (it installs redis-server and postgresql)")
    return found


def _wait(probe, what: str, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


class PrivateRedis:
    """`redis-server` on a free loopback port, no persistence: a stop loses whatever was queued, like a crash."""

    def __init__(self) -> None:
        self.binary = _binary("redis-server")
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="dsar-faults-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        with (self.root / "redis.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(self.root)], stdout=log, stderr=subprocess.STDOUT)
        _wait(self.ping, f"redis-server on port {self.port}")

    def stop(self) -> None:
        """SIGKILL: the queue's contents are gone, as when the server crashes."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def ping(self) -> bool:
        """PING over a plain socket (the client library would retry for seconds against a stopped server)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class PrivatePostgres:
    """A PostgreSQL cluster of its own (initdb), on a free loopback port with trust authentication."""

    def __init__(self) -> None:
        installed = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
        self.bindir = Path(_binary("pg_ctl", *installed[-1:])).parent  # Debian keeps it off PATH, per version
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="dsar-faults-pg-"))
        self.data = self.root / "data"
        if os.geteuid() == 0:  # the server refuses to run as root
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                  "--no-locale", "--no-sync")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if os.geteuid() == 0:
            command = ["su", "postgres", "-c", shlex.join(command)]
        done = subprocess.run(command, capture_output=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stdout.decode()}{done.stderr.decode()}")

    def start(self) -> None:
        # fsync off keeps it quick; commits are still written before they return, so a crash of the server
        # (not of the machine) loses nothing that was acknowledged.
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c shared_buffers=16MB -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """`fast` disconnects every client and shuts down cleanly; `immediate` is a crash (recovery at start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def close(self) -> None:
        try:
            self.stop("immediate")
        except RuntimeError:
            pass  # already stopped
        shutil.rmtree(self.root, ignore_errors=True)
