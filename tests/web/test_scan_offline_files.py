"""What makes 扫码作业 installable and able to open with no network (issue 17): its web app
manifest and its service worker are served to anybody (they hold nothing of a user), with the
media types browsers require and no long-lived HTTP caching (a new version must reach the
device); every file the worker keeps for offline use exists; the page links the manifest and
loads its queue; and every page loads the queue's store (for the sign-out warning, and for the
sign-in page to say that scans wait on the device)."""

from __future__ import annotations

import json
import re

from tests.web.conftest import sign_in

SHELL = re.compile(r"var SHELL = \[(.*?)\];", re.S)


def test_the_manifest_is_served_to_anybody_and_names_icons_that_exist(web):
    answer = web.get("/scan.webmanifest")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/manifest+json")
    assert answer.headers["cache-control"] == "no-cache"
    manifest = json.loads(answer.content)
    assert manifest["start_url"] == "/scan" and manifest["scope"] == "/scan"
    assert manifest["display"] == "standalone" and manifest["lang"] == "zh-CN"
    sizes = set()
    for icon in manifest["icons"]:
        image = web.get(icon["src"])
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG"), icon
        width, height = (int(n) for n in icon["sizes"].split("x"))
        # a PNG's IHDR: width and height as big-endian 32-bit numbers at bytes 16-24
        assert (int.from_bytes(image.content[16:20]), int.from_bytes(image.content[20:24])) == (
            width,
            height,
        )
        sizes.add(width)
    assert {192, 512} <= sizes  # what an installable app needs


def test_the_service_worker_is_served_from_the_root_and_keeps_only_files_that_exist(web):
    answer = web.get("/scan-sw.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["cache-control"] == "no-cache"
    shell = SHELL.search(answer.text)
    assert shell
    paths = re.findall(r'"([^"]+)"', shell.group(1))
    assert "/static/web/scan.js" in paths and "/static/web/scan_queue.js" in paths
    for path in paths:
        assert web.get(path).status_code == 200, path
    # the worker never answers for the API (the page keeps its own copies and queue)
    assert "/api/" not in answer.text.split('self.addEventListener("fetch"', 1)[1]


def test_the_scan_page_links_its_manifest_and_every_page_loads_the_queue(web):
    sign_in(web, "clerk@510121")
    page = web.get("/scan").text
    assert '<link rel="manifest" href="/scan.webmanifest">' in page
    assert '<link rel="apple-touch-icon" href="/static/web/icon-180.png">' in page
    for script in ("scan_queue.js", "scan_sync.js", "scan.js", "camera.js"):
        assert f'src="/static/web/{script}"' in page, script
    user = re.search(r'data-user="(\d+)"', page)
    assert user and f'<meta name="ledger-user" content="{user.group(1)}">' in page
    home = web.get("/").text
    assert 'src="/static/web/scan_queue.js"' in home and "ledger-user" in home
    web.post(
        "/sign-out",
        data={"_csrf": re.search(r'name="csrf-token" content="([^"]+)"', home).group(1)},
    )
    signed_out = web.get("/").text
    # signed out: no user, but the queue's store (the sign-in page says when scans wait)
    assert "scan_queue.js" in signed_out and "ledger-user" not in signed_out
