"""Running the real `dsar` command in a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def dsar(*args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DSAR_") or k.startswith("DSAR_TEST")}
    full_env.update({"DSAR_CELERY_EAGER": "1", "DSAR_MAIL_TRANSPORT": "file", "PYTHONWARNINGS": "ignore"})
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "dsar", *args], cwd=ROOT, env=full_env, capture_output=True,
                          text=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"dsar {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def dsar_json(*args: str, env: dict[str, str] | None = None) -> Any:
    return json.loads(dsar(*args, "--json", env=env).stdout)
