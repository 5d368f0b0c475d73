"""The scan page's camera (api/static/web/camera.js) end to end: headless Chromium whose camera
is a video of real pack labels (tests/e2e/camera.py makes it), on the demo city's live server.

The city's clerk opens an 出库 scan document, presses 摄像头扫码, and the packs shown to the
camera arrive in the server's document, each once although the video loops (a label seen again
after the loop is answered 已扫描过 and adds nothing). Closing the camera stops it, and a
handheld scanner (the label typed with Enter) still works; cancelling the document stops the
camera. Without a camera (none, refused, or a page not on HTTPS) the page says why in Chinese
and the scan input keeps working.

Headless Chromium on Linux has no BarcodeDetector: these tests read the codes with jsQR, which
the page loads on demand.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from ledger.services import label_keys, scanning
from ledger.services.scan_models import PackInfo
from ledger.settings import Settings
from tests.e2e.camera import Video, camera_browser, camera_stats, open_issue, write_y4m
from tests.e2e.workspace import WIDTHS, Page, shot_name

CLERK, CITY, COUNTY = "clerk@510100", "510100", "510121"
ITEM, BATCH = "GT2014", "2014-01"  # the city's only 挂图 batch (so the FEFO pick): 5 packs
SHOWN = 3  # labels in the video; the 4th and 5th pack are typed
VIDEO = Video()
SESSIONS: dict[str, dict] = {}


@pytest.fixture(scope="module")
def packs(workspace) -> list[PackInfo]:
    keys = label_keys.load(Settings.from_environment())
    found = scanning.packs(workspace.database, keys, ITEM, BATCH, CITY)
    assert len(found) >= SHOWN + 2
    return found[: SHOWN + 2]


@pytest.fixture(scope="module")
def camera_driver(packs, tmp_path_factory):
    """Chromium whose camera shows the first SHOWN labels, one after the other, in a loop."""
    video = tmp_path_factory.mktemp("camera") / "labels.y4m"
    driver = camera_browser(write_y4m(video, [p.payload for p in packs[:SHOWN]], VIDEO))
    yield driver
    driver.quit()


@pytest.fixture
def camera_page(workspace, camera_driver) -> Page:
    page = Page(camera_driver, workspace.base)
    camera_driver.get(workspace.base + "/static/web/icon.svg")  # on the origin, no page
    page.drain()
    return page


def server_lines(workspace, document: str) -> list[tuple[str, str, int]]:
    found = scanning.document(workspace.database, int(document))
    return sorted((line.item_code, line.batch_number, line.serial) for line in found.lines)


def keys_of(packs: list[PackInfo]) -> list[tuple[str, str, int]]:
    return sorted((p.item_code, p.batch_number, p.serial) for p in packs)


def type_label(page: Page, payload: str) -> None:
    """As a handheld scanner does: the label's text and Enter into the focused scan input."""
    box = page.driver.switch_to.active_element
    assert box.get_attribute("id") == "payload"
    box.send_keys(payload + Keys.ENTER)


def cancel(page: Page) -> None:
    page.press("#cancel", accept=True, leaves=False)
    page.wait_for(lambda _: page.text_of("#title").endswith("· 已作废"))


# The page hidden or shown as the browser tells it (document.visibilityState and its event).
VISIBILITY_JS = """
const state = arguments[0];
Object.defineProperty(document, "visibilityState", {configurable: true, get: () => state});
document.dispatchEvent(new Event("visibilitychange"));
"""


def camera_running(page: Page) -> bool:
    return bool(page.driver.execute_script("return window.ScanCamera.running()"))


@pytest.mark.parametrize("width", WIDTHS)
def test_the_camera_scans_each_label_in_view_once(camera_page, workspace, packs, request, width):
    page, name = camera_page, shot_name(request)
    page.resize(width)
    page.resume(CLERK, SESSIONS)
    document = open_issue(page, COUNTY)
    shown = [p.payload for p in packs[:SHOWN]]

    def scan_by_camera() -> None:
        page.driver.find_element(By.ID, "camera-open").click()
        page.wait_for(
            lambda _: page.text_of("#total-packs") == str(SHOWN), VIDEO.loop_s(SHOWN) + 15
        )

    visit = page.record(page.driver.current_url, scan_by_camera)
    assert page.driver.execute_script("return window.ScanCamera.engine()") == "jsQR"
    assert page.driver.find_element(By.ID, "camera-video").is_displayed()
    page.screenshot(name, "camera")
    page.check(visit)
    assert server_lines(workspace, document) == keys_of(packs[:SHOWN])

    # The video loops: a label back in view after more than 3 s is sent again, answered
    # 已扫描过, and the document keeps one line per pack.
    page.wait_for(
        lambda _: any(s["kind"] == "again" for s in camera_stats(page)), VIDEO.loop_s(SHOWN) + 15
    )
    stats = camera_stats(page)
    assert sorted(s["text"] for s in stats if s["kind"] == "ok") == sorted(shown)
    assert {s["kind"] for s in stats} <= {"ok", "again"}
    assert all(s["blankAt"] < s["decodedAt"] < s["answeredAt"] for s in stats if s["kind"])
    assert server_lines(workspace, document) == keys_of(packs[:SHOWN])
    assert page.text_of("#total-packs") == str(SHOWN)

    # Hidden (another app in front, the phone locked): the camera stops; shown, it starts again.
    page.driver.execute_script(VISIBILITY_JS, "hidden")
    assert not camera_running(page)
    assert "后台" in page.text_of("#camera-status")
    page.driver.execute_script(VISIBILITY_JS, "visible")
    page.wait_for(lambda _: camera_running(page))

    # Closed: the camera stops; the handheld scanner types into the scan input as before.
    page.driver.find_element(By.ID, "camera-close").click()
    assert not camera_running(page)
    assert (
        page.driver.execute_script("return document.getElementById('camera-video').srcObject")
        is None
    )
    type_label(page, packs[SHOWN].payload)
    page.wait_for(lambda _: page.text_of("#total-packs") == str(SHOWN + 1))
    assert server_lines(workspace, document) == keys_of(packs[: SHOWN + 1])

    # A document no longer open stops the camera (its packs are free again for the next run).
    page.driver.find_element(By.ID, "camera-open").click()
    page.wait_for(lambda _: camera_running(page))
    cancel(page)
    page.wait_for(lambda _: not camera_running(page))
    assert "扫描单已不在进行中" in page.text_of("#camera-status")


# (case, script run before the page's own, what the page says)
REFUSALS = {
    "no-camera": ("", "没有找到摄像头"),
    "denied": (
        "navigator.mediaDevices.getUserMedia = () => Promise.reject("
        "new DOMException('denied', 'NotAllowedError'));",
        "未获准使用摄像头",
    ),
    "http": (
        "Object.defineProperty(window, 'isSecureContext', {get: () => false});",
        "摄像头只能在 HTTPS 网址",
    ),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_without_a_camera_the_page_says_why_and_the_scanner_still_works(
    workspace_page, workspace, packs, request, case
):
    """The module's plain browser has no camera at all; a refusal and a page served over
    plain HTTP are played by a script the browser runs before the page's own."""
    page, name = workspace_page, shot_name(request)
    script, said = REFUSALS[case]
    page.resize(390)
    page.resume(CLERK, SESSIONS)
    added = None
    if script:
        added = page.driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": script}
        )
    try:
        document = open_issue(page, COUNTY)

        def press_camera() -> None:
            page.driver.find_element(By.ID, "camera-open").click()
            page.wait_for(
                lambda _: (
                    "error"
                    in (
                        page.driver.find_element(By.ID, "camera-status").get_attribute("class")
                        or ""
                    )
                )
            )

        visit = page.record(page.driver.current_url, press_camera)
        assert said in page.text_of("#camera-status")
        assert not camera_running(page)
        assert not page.driver.find_element(By.ID, "camera-video").is_displayed()
        page.screenshot(name, "refused")
        page.check(visit)
        type_label(page, packs[SHOWN + 1].payload)
        page.wait_for(lambda _: page.text_of("#total-packs") == "1")
        assert "ok" in (page.driver.find_element(By.ID, "feedback").get_attribute("class") or "")
        assert server_lines(workspace, document) == keys_of(packs[SHOWN + 1 : SHOWN + 2])
        cancel(page)
    finally:
        if added:
            page.driver.execute_cdp_cmd(
                "Page.removeScriptToEvaluateOnNewDocument", {"identifier": added["identifier"]}
            )
