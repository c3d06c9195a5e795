"""Korean notices to requesters and e-mails to staff, rendered from one context through one helper.

    from dsar.letters import render_notice, NoticeContext, NOTICE_KINDS
    rendered = render_notice("access_notice", context)        # Rendered: subject, html, text, sha256, ...

`render_pdf` (dsar.letters.pdf) turns a Rendered notice into an A4 PDF when the `pdf` extra is installed.
"""

from dsar.letters.catalog import NOTICE_KINDS, NoticeKind
from dsar.letters.context import (
    DEFAULT_COMPLAINT_BODIES,
    Access,
    Agent,
    Case,
    CaseSummary,
    ComplaintBody,
    Contact,
    Decision,
    Extension,
    Fee,
    LegalGround,
    NoticeContext,
    Org,
    Requester,
    Requirement,
    RetentionRule,
    Staff,
)
from dsar.letters.render import Rendered, render_notice

__all__ = [
    "DEFAULT_COMPLAINT_BODIES",
    "NOTICE_KINDS",
    "Access",
    "Agent",
    "Case",
    "CaseSummary",
    "ComplaintBody",
    "Contact",
    "Decision",
    "Extension",
    "Fee",
    "LegalGround",
    "NoticeContext",
    "NoticeKind",
    "Org",
    "Rendered",
    "Requester",
    "Requirement",
    "RetentionRule",
    "Staff",
    "render_notice",
]
