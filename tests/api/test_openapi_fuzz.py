"""Property-based run over the published OpenAPI document: schemathesis generates valid and invalid requests for
every operation and sends them to the real server; no answer may be a 5xx.

Two passes within about a minute and a half: an admin token (every operation, the admin-only ones included),
then an officer's (who may change cases, so transitions, notes and notices run past the permission checks).
Path parameters are drawn partly from the records that exist (case numbers, organisation slugs), so requests
reach the logic behind the 404s. Revoking tokens is left out: the fuzzer would revoke the token it runs with.
One worker: schemathesis' own generator is not thread-safe on Python 3.11 ("AST constructor recursion depth
mismatch" runtime errors with two).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests.api.conftest import World
from tests.api.test_orgs import workflows_dir  # noqa: F401  (fixture: imports write to the test's folder)

PASSES = (("admin", 45), ("officer", 35))  # (account, seconds)


def _config(tmp_path: Path, world: World) -> Path:
    numbers = json.dumps(sorted(world.cases.values()))
    config = tmp_path / "schemathesis.toml"
    config.write_text(f"""
[dictionaries.cases]
values = {numbers}

[dictionaries.slugs]
values = ["testorg", "otherorg"]

[parameters]
"path.number" = {{ dictionary = "cases", probability = 0.6 }}
"path.slug" = {{ dictionary = "slugs", probability = 0.6 }}
""", encoding="utf-8")
    return config


def test_no_request_the_spec_allows_or_forbids_makes_a_server_error(
    base_url: str, world: World, workflows_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    spec = httpx.get(f"{base_url}/openapi.json").json()
    assert {"/api/cases", "/api/cases/{number}/transitions", "/api/audit/export"} <= set(spec["paths"])
    cli = Path(sys.executable).with_name("schemathesis")
    config = _config(tmp_path, world)
    for who, seconds in PASSES:
        report = tmp_path / f"junit-{who}.xml"
        proc = subprocess.run(
            [str(cli), "--config-file", str(config), "run", f"{base_url}/openapi.json",
             "--checks", "not_a_server_error",
             "--header", f"Authorization: Bearer {world.users[who]['token']}",
             "--exclude-path-regex", "^/intake/", "--exclude-path", "/api/tokens/{token_id}",
             "--max-time", str(seconds), "--workers", "1", "--seed", "7", "--request-timeout", "30",
             "--phases", "examples,coverage,fuzzing", "--report", "junit", "--report-junit-path", str(report),
             "--no-color"],
            capture_output=True, text=True, timeout=seconds * 4, cwd=tmp_path,
        )
        assert proc.returncode == 0, f"as {who}:\n" + proc.stdout[:8000] + proc.stderr[-2000:]
        assert report.is_file() and "<testsuite" in report.read_text(encoding="utf-8")
