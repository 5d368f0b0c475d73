"""The scan page for warehouse clerks (and a township receiving arrivals): /scan.

A workspace page (base.html's menu and sign-out) for the signed-in user; its script
(api/static/web/scan.js, no build step, no framework) talks to the JSON API with the session —
the cookie, and the session's CSRF token on every POST. A handheld scanner works as a keyboard:
it types the label and presses Enter into an input that keeps the focus. Works on a phone's
browser and a PC. `?purpose=count` (from a stocktake's page) opens with 盘点 chosen.

The document's place and an issue's receiver are picked from lists (api/web/places.py): a
clerk scans at its own location, an admin at any of its city's; an issue goes to a place of
the user's subtree.

The page is installable and opens with no network once opened (issue 17): its web app manifest
(/scan.webmanifest) and its service worker (/scan-sw.js, whose scope /scan needs it served from
the root) are files of api/static/web/ served here, to anybody: they hold nothing of a user.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from litestar import Request, Response, get
from litestar.params import QueryParameter
from litestar.response import Template

from api.web.places import own_place, user_places
from api.web.render import page
from ledger.model import Role
from ledger.services.users import User

PURPOSES = ("issue", "confirm", "receive", "count")
Purpose = Annotated[str | None, QueryParameter(name="purpose", required=False, max_length=20)]


@get("/scan", sync_to_thread=True, include_in_schema=False)
def scan_page(request: Request, chosen: Purpose = None) -> Template:
    purpose = chosen if chosen in PURPOSES else "issue"
    user: User = request.user
    subtree = user_places(request)
    return page(
        request,
        "scan.html",
        "扫码作业",
        purpose=purpose,
        locations=subtree if user.has(Role.admin) else own_place(request),
        destinations=subtree.without([user.location_code]),
    )


WEB_FILES = Path(__file__).parent / "static" / "web"
# Checked for a new version at every start of the page: never kept by the HTTP cache.
WORKER_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


@get("/scan-sw.js", sync_to_thread=False, include_in_schema=False)
def scan_worker() -> Response[bytes]:
    return Response(
        (WEB_FILES / "scan_sw.js").read_bytes(),
        media_type="text/javascript; charset=utf-8",
        headers=WORKER_HEADERS,
    )


@get("/scan.webmanifest", sync_to_thread=False, include_in_schema=False)
def scan_manifest() -> Response[bytes]:
    return Response(
        (WEB_FILES / "scan.webmanifest").read_bytes(),
        media_type="application/manifest+json",
        headers=WORKER_HEADERS,
    )
