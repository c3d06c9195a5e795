"""`dsar demo`: the whole pipeline on the two seed policies and the sample e-mails, on the embedded default.

SQLite file, no broker (tasks run inline through the same code), mail written as .eml files instead of sent.
Each run starts from a fresh demo database unless DSAR_DATABASE_URL points elsewhere.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsar.settings import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "samples"

# What the demo's staff decide for each right: the transitions after 검토, with what a real decision carries.
DECISIONS: dict[str, dict[str, Any]] = {
    "열람": {"transition": "approve", "decision": {
        "items": ["성명, 이메일 주소, 휴대폰 번호", "서비스 이용기록 및 접속 로그(최근 1년)", "제3자 제공 현황: 없음"],
        "access": {"method": "전자우편으로 사본 송부"}}},
    "정정": {"transition": "approve", "decision": {"items": ["휴대폰 번호를 요청하신 번호로 정정"]}},
    "삭제": {"transition": "approve", "decision": {"items": ["회원 정보(성명, 이메일, 휴대폰 번호) 삭제"]}},
    "처리정지": {"transition": "refuse", "reason": "유료 교육 과정이 진행 중이어서 수강 관리를 위한 처리를 멈추면 "
                 "약정한 서비스를 제공할 수 없습니다. 과정 종료 후 다시 요구하시면 처리정지하겠습니다.",
                 "ground": "contract_performance", "approved_by": "개인정보 보호책임자"},
    "동의철회": {"transition": "approve", "decision": {"items": ["마케팅 정보 수신 동의 철회", "회원 탈퇴 처리"]}},
}


@dataclass
class DemoPaths:
    root: Path
    database_url: str
    notices: Path
    outbox: Path


def prepare(root: Path) -> DemoPaths:
    """Point settings at a fresh demo workspace before anything reads them."""
    root = root.resolve()
    own_db = not os.environ.get("DSAR_DATABASE_URL")
    if own_db and root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("DSAR_DATABASE_URL") or f"sqlite:///{root / 'dsar-demo.db'}"
    os.environ.update({
        "DSAR_DATABASE_URL": url, "DSAR_CELERY_EAGER": "1", "DSAR_MAIL_TRANSPORT": "file",
        "DSAR_DATA_DIR": str(root), "DSAR_OUTPUT_DIR": str(root / "notices"),
    })
    from dsar.db import dispose_engines
    from dsar.settings import get_settings

    get_settings.cache_clear()
    dispose_engines()
    return DemoPaths(root, url, root / "notices", root / "outbox")


def run(root: Path) -> dict[str, Any]:
    started = time.perf_counter()
    paths = prepare(root)
    from sqlmodel import col, select

    from dsar import audit, engine, notices
    from dsar.cli.intake_cmd import ingest_files
    from dsar.cli.requests_cmd import case_row, write_notices
    from dsar.db import session_scope, upgrade
    from dsar.models import Notice, Organisation, Request
    from dsar.settings import get_settings
    from dsar.workflow.importer import import_policy
    from tasks.notices import queue_delivery

    upgrade()
    imported = []
    for policy in sorted((SAMPLES / "policies").glob("*.txt")):
        with session_scope() as session:
            imported.append(import_policy(session, policy, get_settings().workflows_dir, actor="demo"))
    intake = ingest_files(sorted((SAMPLES / "emails").glob("*.eml")), source="demo")

    with session_scope() as session:
        cases = list(session.exec(select(Request).order_by(col(Request.id))))
    for case in cases:
        if case.stage == engine.UNROUTED or case.duplicate_of_id:
            continue
        _work(case.id or 0, actor="demo-staff")
    with session_scope() as session:
        waiting = notices.pending_ids(session)
    queue_delivery(waiting)
    for case in cases:
        with session_scope() as session:
            request = session.get(Request, case.id)
            if request and request.stage == "notifying":
                engine.advance(session, request, "close", actor="demo-staff")

    rows, files = [], []
    with session_scope() as session:
        labels: dict[int, dict[str, Any]] = {}
        for request in session.exec(select(Request).order_by(col(Request.id))):
            rows.append(case_row(session, request, labels))
            org = session.get(Organisation, request.org_id) if request.org_id else None
            stored = list(session.exec(select(Notice).where(Notice.request_id == request.id).order_by(col(Notice.id))))
            files += write_notices(stored, paths.notices, org.name if org else "", pdf=False, number=request.number)
        chain = audit.verify(session)
    return {
        "policies": [{"org": i.summary["org"], "slug": i.summary["slug"], "workflow": str(i.path),
                      "warnings": i.summary["warnings"]} for i in imported],
        "intake": intake, "cases": rows, "audit": chain.as_dict(), "database": paths.database_url,
        "notices_dir": str(paths.notices), "outbox_dir": str(paths.outbox), "files": len(files),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _work(case_id: int, *, actor: str) -> None:
    """접수 → 본인확인 → 검토 → 결정(통지): each step its own transaction, as staff would click them."""
    from dsar import engine
    from dsar.db import session_scope
    from dsar.models import Request

    for step in ("start_verification", "verify"):
        with session_scope() as session:
            engine.advance(session, session.get(Request, case_id), step, actor=actor)  # type: ignore[arg-type]
    with session_scope() as session:
        request = session.get(Request, case_id)
        assert request is not None and request.right is not None
        plan = DECISIONS.get(request.right, DECISIONS["열람"])
        engine.advance(session, request, plan["transition"], actor=actor, reason=plan.get("reason"),
                       ground=plan.get("ground"), officer_approval=plan.get("approved_by"),
                       decision=plan.get("decision"))

