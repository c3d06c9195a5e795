"""Browser tests: Debian's Chromium (never a downloaded browser) driven by Playwright, against the app served by
uvicorn in its own process on a free loopback port.

They are marked `browser`. Without /usr/bin/chromium or the playwright package they are skipped, unless
DSAR_REQUIRE_BROWSER=1 (set by .ci/run, which installs Chromium), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives real headless Chromium (needs /usr/bin/chromium)")


def _missing(reason: str) -> None:
    if os.environ.get("DSAR_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (DSAR_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@pytest.fixture
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    if not CHROMIUM.exists():
        _missing("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def serve_in_process(env: dict[str, str], log: Path) -> Iterator[str]:
    """`uvicorn dsar.api.app:create_app --factory` as its own process; yields the base URL once it answers."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "dsar.api.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("uvicorn did not start:\n" + log.read_text(errors="replace"))
            time.sleep(0.1)
        try:
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def simulated_now(tmp_path: Path, at: datetime) -> Path:
    from dsar.clock import write_clock_file

    path = tmp_path / "clock"
    write_clock_file(path, at)
    return path
