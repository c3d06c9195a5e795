"""`dsar policy import`: policy text → extracted facts → checked workflow file → registered version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session

from dsar.errors import PolicyError
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
    if not extract.get("org") or not extract.get("slug"):
        missing = "조직 이름" if not extract.get("org") else "웹사이트나 연락 전자우편의 도메인"
        raise PolicyError(
            f"처리방침에서 {missing}을 찾지 못해 워크플로 파일 이름을 정할 수 없습니다. "
            "처리방침 첫머리에 회사 이름과 개인정보 보호책임자 전자우편을 적은 뒤 다시 가져오세요 "
            f"(no organisation name or domain found in {policy.name})",
            path=str(policy),
        )
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
