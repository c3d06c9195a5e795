"""`dsar policy import`: policy text → extracted facts → checked workflow file → registered version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session

from dsar.policy import compile_policy, read_policy_file
from dsar.workflow.compile import dump, organisation_document
from dsar.workflow.definitions import load_bases, load_organisation
from dsar.workflow.registry import Registered, register

CONTRACT_KEYS = ("org", "slug", "rights", "channels", "verification", "contacts", "retention", "complaint_bodies",
                 "warnings", "evidence")


@dataclass
class Imported:
    summary: dict[str, Any]  # the `--json` object: the keys of the command-line contract
    path: Path
    registered: Registered


def import_policy(session: Session, policy: Path, out_dir: Path, *, actor: str = "cli") -> Imported:
    """Compile one policy, check the result as any workflow file is checked, then write and register it.

    Nothing is written when the compiled definition would not load.
    """
    extract = compile_policy(read_policy_file(policy), source=policy.name).to_json()
    doc = organisation_document(extract, source=policy.name)
    text = dump(doc)
    target = out_dir / f"{doc['organisation']['slug']}.yaml"
    resolved = load_organisation(target, load_bases(), text=text)
    out_dir.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    registered = register(session, resolved, actor=actor)
    summary = {k: extract.get(k) for k in CONTRACT_KEYS}
    summary["warnings"] = list(extract.get("warnings") or []) + registered.warnings
    return Imported(summary, target, registered)
