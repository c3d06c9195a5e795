"""The staff web console: server-rendered Korean pages (templates/web/), sign-in by session cookie.

`router` holds every console page; it is left out of /openapi.json (the API under /api is the contract).
"""

from fastapi import APIRouter

from dsar.web import accounts, code_entry, console, corrections, reports, verify

router = APIRouter(include_in_schema=False)
router.include_router(console.router)
router.include_router(reports.router)
router.include_router(accounts.router)
router.include_router(corrections.router)
router.include_router(verify.router)
router.include_router(code_entry.router)

__all__ = ["router"]
