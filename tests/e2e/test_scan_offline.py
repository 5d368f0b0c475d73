"""扫码作业 through a network cut, end to end in headless Chromium (issue 17).

The city's clerk opens an issue on /scan, scans packs online, then the network is cut with the
DevTools protocol — on the page and on its service worker (tests/e2e/devtools.py) — and the
clerk goes on scanning: the scans wait on the device as 待上传, the page is reloaded and comes
back from the device (the server sees no request for it), 完成过账 and 退出 hold back while scans
wait, and when the network returns every scan arrives once: the server's document holds exactly
the packs scanned, a label scanned twice counts once, a pack that is not here is reported after
the sync and can be cleared, and the posted ledger verifies clean. A second test restarts the
browser (same profile) with scans waiting: they are sent after signing in again. A third does
it with the phone's camera (a fake one playing a video of labels, tests/e2e/camera.py).
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as expected
from selenium.webdriver.support.ui import WebDriverWait

from ledger.services import label_keys, scanning
from ledger.services.audit import verify_ledger
from ledger.settings import Settings
from tests.e2e.camera import Video, camera_browser, write_y4m
from tests.e2e.conftest import CHROMIUM_FLAGS, ensure_chromium
from tests.e2e.devtools import DevTools
from tests.e2e.workspace import LiveServer, Page, new_browser, shot_name

CLERK, CITY, COUNTY = "clerk@510100", "510100", "510121"
ITEM, BATCH = "LS2014", "2014-01"  # 历书: one batch at the city, 280 labelled packs
WAIT = 20
# What the browser logs as errors and the test expects: the page's calls while the network is
# cut, and the server's refusal of the pack that is not here (409).
CUT_ERRORS = (
    "ERR_INTERNET_DISCONNECTED",
    "/api/v1/scans - Failed to load resource: the server responded with a status of 409",
)
# While cut, the browser itself still checks the service worker's script for a new version
# (its own request, outside the page and the worker): the only request the server may see.
WORKER_UPDATE_CHECK = "/scan-sw.js"


class Requests:
    """The paths the server was asked for (an ASGI app around the app)."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def wrap(self, app):
        async def logged(scope, receive, send):
            if scope["type"] == "http":
                self.paths.append(scope["path"])
            await app(scope, receive, send)

        return logged


@pytest.fixture(scope="module")
def logged_server(workspace_template, tmp_path_factory):
    requests = Requests()
    server = LiveServer.start(
        workspace_template, tmp_path_factory.mktemp("scan-offline"), requests.wrap
    )
    yield server, requests
    server.stop()


def packs_here(database, count: int, offset: int = 0):
    keys = label_keys.load(Settings.from_environment())
    return scanning.packs(database, keys, ITEM, BATCH, CITY, limit=count, offset=offset)


def not_here(database):
    """A sealed pack at the county: scanning it at the city is refused."""
    keys = label_keys.load(Settings.from_environment())
    return scanning.packs(database, keys, "NH2014", "2014-01", COUNTY, limit=1)[0]


def text(page: Page, css: str) -> str:
    return page.driver.find_element(By.CSS_SELECTOR, css).text


def scan(page: Page, payload: str) -> None:
    box = page.driver.find_element(By.ID, "payload")
    box.send_keys(payload + Keys.ENTER)


def open_issue(page: Page) -> int:
    page.visit("/scan", ready="#purpose")
    page.choose({"destination": COUNTY})
    page.driver.find_element(By.ID, "open").click()
    page.wait_for(lambda _: "出库" in text(page, "#title"))
    page.wait_for(lambda d: d.find_element(By.ID, "documents").get_attribute("value"))
    return int(page.driver.find_element(By.ID, "documents").get_attribute("value"))


def worker_ready(page: Page) -> None:
    """The service worker controls the page and holds its copy of /scan."""
    page.wait_for(
        lambda d: d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "if (!navigator.serviceWorker.controller) { done(false); return; }"
            "caches.open('ledger-scan-pages').then(c => c.match('/scan'))"
            ".then(r => done(!!r), () => done(false));"
        ),
        WAIT,
    )


def waiting(page: Page) -> int | None:
    """The 待上传 count the page shows (0 when it shows none; None while it loads)."""
    return page.driver.execute_script(
        "const q = document.getElementById('queue'), n = document.getElementById('queue-count');"
        "if (!q || !n || document.readyState !== 'complete') return null;"
        "return q.classList.contains('hidden') ? 0 : Number(n.textContent);"
    )


def server_serials(database, document_id: int) -> list[int]:
    return sorted(line.serial for line in scanning.document(database, document_id).lines)


def test_scans_made_offline_arrive_once_after_a_reload(logged_server, workspace_browser, request):
    server, requests = logged_server
    database = server.database
    page = Page(workspace_browser, server.base)
    name = shot_name(request)
    devtools = DevTools(page.driver)
    first, second, third, fourth, fifth = packs_here(database, 5)
    undone, dropped = packs_here(database, 2, offset=10)
    stranger = not_here(database)
    try:
        page.resize(390)
        page.drain()
        page.sign_in(CLERK)
        document = open_issue(page)
        worker_ready(page)
        for count, pack in enumerate((first, second), 1):
            scan(page, pack.payload)
            page.wait_for(lambda _, c=count: text(page, "#total-packs") == str(c))
        assert "ok" in page.driver.find_element(By.ID, "feedback").get_attribute("class")
        scan(page, undone.payload)
        page.wait_for(lambda _: text(page, "#total-packs") == "3")
        # a double tap on 撤销上一包 undoes one pack, not two
        ActionChains(page.driver).double_click(page.driver.find_element(By.ID, "undo")).perform()
        page.wait_for(lambda _: "已撤销上一包" in text(page, "#feedback"))
        page.wait_for(lambda d: d.find_element(By.ID, "undo").is_enabled())
        assert server_serials(database, document) == sorted([first.serial, second.serial])

        assert set(devtools.network(online=False)) == {"service_worker", "page"}
        for pack in (third, fourth, first, stranger, fifth):  # first: scanned already
            scan(page, pack.payload)
        page.wait_for(lambda _: waiting(page) == 5, WAIT)
        assert "queued" in page.driver.find_element(By.ID, "feedback").get_attribute("class")
        scan(page, fourth.payload)  # twice before it was sent: said at once, not queued
        page.wait_for(lambda _: "已在本机待上传" in text(page, "#feedback"))
        assert waiting(page) == 5
        scan(page, dropped.payload)  # scanned, then undone before it was ever sent
        page.wait_for(lambda _: waiting(page) == 6)
        page.driver.find_element(By.ID, "undo").click()
        page.wait_for(lambda _: waiting(page) == 5 and "未发送" in text(page, "#feedback"))
        assert "离线" in text(page, "#network")
        assert not page.driver.find_element(By.ID, "post").is_enabled()
        assert "5 条扫描在本机待上传" in text(page, "#post-hint")
        assert text(page, "#total-packs") == "2"  # the server's count: nothing sent yet
        page.screenshot(name, "01-offline-queued")

        requests.paths.clear()
        page.driver.refresh()  # served by the service worker from the device
        page.wait_for(lambda _: waiting(page) == 5 and f"扫描单 {document}" in text(page, "#title"))
        assert set(requests.paths) <= {WORKER_UPDATE_CHECK}, requests.paths
        assert page.driver.find_element(By.ID, "copy-note").is_displayed()
        assert text(page, "#total-packs") == "2"  # the device's copy of the document
        assert not page.driver.find_element(By.ID, "post").is_enabled()
        page.screenshot(name, "02-offline-reloaded")

        page.driver.find_element(By.CSS_SELECTOR, "form[action='/sign-out'] button").click()
        alert = WebDriverWait(page.driver, WAIT).until(expected.alert_is_present())
        assert "5 条扫描待上传" in alert.text
        alert.dismiss()  # stays signed in, on the page
        assert page.driver.find_elements(By.ID, "payload")

        devtools.network(online=True)
        page.wait_for(lambda _: waiting(page) == 0, WAIT)
        page.wait_for(lambda _: text(page, "#total-packs") == "5")
        assert server_serials(database, document) == sorted(
            p.serial for p in (first, second, third, fourth, fifth)
        )
        rows = {
            kind: len(page.driver.find_elements(By.CSS_SELECTOR, f"#synced tr.result-{kind}"))
            for kind in ("ok", "again", "error")
        }
        assert rows == {"ok": 3, "again": 1, "error": 1}, text(page, "#synced")
        assert "不在此处" in text(page, "#synced tr.result-error")
        assert "未通过 1 条" in text(page, "#sync h2")
        summary = text(page, "#feedback")
        assert "5 条扫描已上传" in summary and "3 条已扫描" in summary, summary
        assert "1 条重复" in summary and "1 条未通过" in summary, summary
        page.wait_for(lambda d: not d.find_element(By.ID, "copy-note").is_displayed())
        page.screenshot(name, "03-synced")
        assert page.overflow() <= 0
        console, _ = page.drain()
        errors = [
            e["message"]
            for e in console
            if e["level"] == "SEVERE" and not any(cut in e["message"] for cut in CUT_ERRORS)
        ]
        assert not errors, errors  # a CSP violation would be one

        page.driver.find_element(By.CSS_SELECTOR, "#synced button[data-key]").click()
        page.wait_for(lambda _: "未通过" not in text(page, "#sync h2"))
        page.wait_for(lambda _: page.driver.find_element(By.ID, "post").is_enabled())
        page.driver.find_element(By.ID, "post").click()
        page.wait_for(lambda _: "已过账" in text(page, "#feedback"))
        assert scanning.document(database, document).status == "posted"
        assert verify_ledger(database).ok
    finally:
        devtools.network(online=True)
        devtools.close()


def test_a_browser_restart_keeps_the_waiting_scans(logged_server, tmp_path):
    server, _ = logged_server
    database = server.database
    profile = tmp_path / "profile"
    flags = (*CHROMIUM_FLAGS, f"--user-data-dir={profile}")
    packs = packs_here(database, 3, offset=20)

    driver = new_browser(*ensure_chromium(), flags)
    try:
        page = Page(driver, server.base)
        page.sign_in(CLERK)
        document = open_issue(page)
        worker_ready(page)
        devtools = DevTools(driver)
        devtools.network(online=False)
        for pack in packs:
            scan(page, pack.payload)
        page.wait_for(lambda _: waiting(page) == 3, WAIT)
    finally:
        driver.quit()  # the browser closes with three scans waiting on the device
        devtools.close()  # not before: the network would come back first
    assert server_serials(database, document) == []

    driver = new_browser(*ensure_chromium(), flags)
    try:
        page = Page(driver, server.base)
        driver.get(server.base + "/static/web/icon.svg")
        driver.delete_all_cookies()  # the session ended with the browser (or while offline)
        driver.get(server.base + "/scan")
        page.wait_for(lambda d: d.find_elements(By.ID, "password"))
        # the sign-in page says that scans wait on this device
        page.wait_for(lambda _: "3 条扫描待上传" in text(page, "#scans-waiting"))
        page.sign_in(CLERK)
        page.wait_for(lambda d: d.current_url.endswith("/scan"))
        page.wait_for(
            lambda _: server_serials(database, document) == sorted(p.serial for p in packs), WAIT
        )
        page.wait_for(lambda _: waiting(page) == 0 and text(page, "#total-packs") == "3")
    finally:
        driver.quit()


QUEUED_JS = """
const done = arguments[arguments.length - 1];
const user = Number(document.getElementById("scan-page").getAttribute("data-user"));
window.ScanQueue.entries(user).then(all => done(all.map(e => e.payload)), () => done(null));
"""


def test_the_camera_scans_through_a_network_cut_and_a_reload(logged_server, tmp_path, request):
    """The issue's own words: a fake camera shows a label sheet's codes in a loop; the network
    is cut in the middle of the document, scans queue, the page is reloaded, the network comes
    back, and the server's document equals the list of labels shown to the camera."""
    server, _ = logged_server
    database = server.database
    shown = packs_here(database, 5, offset=40)
    video = write_y4m(tmp_path / "labels.y4m", [p.payload for p in shown], Video())
    driver = camera_browser(video)
    page = Page(driver, server.base)
    devtools = DevTools(driver)
    try:
        page.resize(390)
        page.sign_in(CLERK)
        document = open_issue(page)
        worker_ready(page)
        page.driver.find_element(By.ID, "camera-open").click()
        page.wait_for(lambda _: len(server_serials(database, document)) >= 1, WAIT)

        devtools.network(online=False)  # in the middle of the document
        page.wait_for(lambda _: (waiting(page) or 0) >= 1, WAIT)
        page.driver.refresh()  # from the device; the camera is opened again
        page.wait_for(lambda _: f"扫描单 {document}" in text(page, "#title"))
        page.driver.find_element(By.ID, "camera-open").click()
        on_server = set(server_serials(database, document))
        missing = {p.payload for p in shown if p.serial not in on_server}

        def all_queued(_) -> bool:
            queued = page.driver.execute_async_script(QUEUED_JS)
            return queued is not None and missing <= set(queued)

        page.wait_for(all_queued, 2 * WAIT)
        assert set(server_serials(database, document)) == on_server  # nothing got through
        page.screenshot(shot_name(request), "camera-offline")

        devtools.network(online=True)
        page.wait_for(
            lambda _: server_serials(database, document) == sorted(p.serial for p in shown), WAIT
        )
        page.driver.find_element(By.ID, "camera-close").click()
        page.wait_for(lambda _: waiting(page) == 0, WAIT)
        assert server_serials(database, document) == sorted(p.serial for p in shown)
    finally:
        driver.quit()
        devtools.close()
