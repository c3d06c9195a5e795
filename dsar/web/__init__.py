"""The staff web console: server-rendered Korean pages (templates/web/), sign-in by session cookie.

`router` holds every console page; it is left out of /openapi.json (the API under /api is the contract).
"""

from fastapi import APIRouter

from dsar.web import console, reports

router = APIRouter(include_in_schema=False)
router.include_router(console.router)
router.include_router(reports.router)

__all__ = ["router"]
