"""The scan page end to end: a real server, headless Chromium typing labels as a scanner does.
The user signs in through the workspace's sign-in form and /scan works on that session (no
token).

Chromium and ChromeDriver come from Debian's packages (see conftest.py for how they are
installed).
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
import uvicorn
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from api.app import create_app
from ledger import commands as c
from ledger.db import balance_queries, scans
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.services import label_keys
from ledger.services.scan_packs import pack_info
from ledger.services.web_sign_in import set_sign_in
from ledger.settings import Settings
from tests.api.conftest import build_template
from tests.bound import Ledger, Scanning
from tests.conftest import TODAY
from tests.e2e.conftest import Chromium


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def browser():
    """A Chromium of its own, with a new profile, not the process's shared one: the scan page
    keeps its queue (IndexedDB), its service worker and its sending lock in the profile's site
    data of its origin, and a port used by an earlier test's server may come back as this
    one's (in a full run the first scan was once never sent within 15 s on the shared
    browser; alone it always was)."""
    own = Chromium()
    yield own.start()
    own.quit()


@pytest.fixture
def server(tmp_path):
    path = tmp_path / "e2e.db"
    template = build_template(path)
    database = Database(make_engine(f"sqlite:///{path}"))
    port = free_port()
    config = uvicorn.Config(
        create_app(database, clock=lambda: TODAY), host="127.0.0.1", port=port, log_level="warning"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", database, template
    running.should_exit = True
    thread.join(10)
    database.dispose()


PASSWORD = "e2e-scan-password"


def sign_in_to_scan(browser, server, who: str) -> None:
    """Give the template's user `who` a password, open /scan, get sent to the sign-in form,
    sign in there and come back to /scan."""
    base, database, template = server
    set_sign_in(database, template.user_id[who], who, PASSWORD)
    browser.get(f"{base}/scan")
    wait = WebDriverWait(browser, 15)
    wait.until(lambda d: d.find_elements(By.ID, "password"))
    assert "/?next=/scan" in browser.current_url
    browser.find_element(By.ID, "login").send_keys(who)
    browser.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)
    wait.until(lambda d: d.current_url == f"{base}/scan" and d.find_elements(By.ID, "payload"))
    assert not browser.find_elements(By.ID, "token")  # no token form any more


def text_of(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def listed(driver, document_id: str) -> str:
    """The text of the document's entry in the list of open scan documents ('' if none)."""
    return driver.execute_script(
        "const o = document.querySelector(`#documents option[value='${arguments[0]}']`);"
        "return o ? o.textContent : '';",
        document_id,
    )


def stock(database) -> tuple[int, int]:
    """NH2014 2014-01 on hand at 成都市 and in transit."""
    with database.read() as connection:
        rows = balance_queries.balances(connection, None, "NH2014", "2014-01", include_virtual=True)
    by_location = {row.location_code: row.on_hand for row in rows}
    return by_location["510100"], by_location.get("in-transit", 0)


def on_hand(database, location: str) -> int:
    """NH2014 2014-01 on hand at a location (virtual ones too)."""
    with database.read() as connection:
        rows = balance_queries.balances(connection, None, "NH2014", "2014-01", include_virtual=True)
    return sum(row.on_hand for row in rows if row.location_code == location)


def test_a_clerk_scans_a_shipment_in_the_browser(server, browser):
    _, database, _ = server
    city, transit = stock(database)
    keys = label_keys.load(Settings.from_environment())
    scanning = Scanning(Ledger(database, clock=lambda: TODAY), keys)
    first, second = (p.payload for p in scanning.packs("NH2014", "2014-01", "510100")[:2])
    wait = WebDriverWait(browser, 15)

    sign_in_to_scan(browser, server, "clerk-city")
    wait.until(lambda d: "成都市" in text_of(d, "who"))
    assert browser.find_element(By.ID, "location").get_attribute("value") == "510100"
    Select(browser.find_element(By.ID, "destination")).select_by_value("510121")
    browser.find_element(By.ID, "open").click()
    wait.until(lambda d: "出库" in text_of(d, "title"))
    assert "成都市 → 金堂县" in text_of(browser, "title")  # the receiver by its name
    box = browser.find_element(By.ID, "payload")
    assert browser.switch_to.active_element == box  # the scanner types into it
    wait.until(lambda d: d.find_element(By.ID, "documents").get_attribute("value"))
    opened = browser.find_element(By.ID, "documents").get_attribute("value")
    assert listed(browser, opened) == f"{opened} · 出库 · 成都市 · 0 包"
    box.send_keys(first + Keys.ENTER)
    wait.until(lambda d: text_of(d, "total-packs") == "1")
    # the list of open documents follows the count as packs are scanned
    wait.until(lambda d: listed(d, opened).endswith(" · 1 包"))
    browser.switch_to.active_element.send_keys(second.lower() + Keys.ENTER)
    wait.until(lambda d: text_of(d, "total-packs") == "2")
    wait.until(lambda d: listed(d, opened).endswith(" · 2 包"))
    assert listed(browser, opened) == f"{opened} · 出库 · 成都市 · 2 包"
    assert text_of(browser, "total-quantity") == "1000 张"
    assert "ok" in browser.find_element(By.ID, "feedback").get_attribute("class")
    totals = browser.find_element(By.ID, "totals").text
    assert "年画" in totals and "2014-01" in totals and "1000 张" in totals

    forged = first[:-3] + ("AAA" if not first.endswith("AAA") else "BBB")
    browser.switch_to.active_element.send_keys(forged + Keys.ENTER)
    wait.until(lambda d: "error" in d.find_element(By.ID, "feedback").get_attribute("class"))
    assert "标签校验失败" in text_of(browser, "feedback")
    assert text_of(browser, "total-packs") == "2"

    browser.find_element(By.ID, "undo").click()
    wait.until(lambda d: text_of(d, "total-packs") == "1")
    wait.until(lambda d: listed(d, opened).endswith(" · 1 包"))
    assert scanning.document(int(opened)).packs == 1  # the count shown is the document's
    browser.find_element(By.ID, "post").click()
    wait.until(lambda d: "已过账" in text_of(d, "feedback"))
    assert "CK-2026-" in text_of(browser, "feedback")

    assert stock(database) == (city - 500, transit + 500)
    assert [p.location_code for p in scanning.packs("NH2014", "2014-01")].count("in-transit") >= 1
    moved = scanning.resolve(first)
    assert moved.location_code == "in-transit" and moved.state == "in_transit"

    # The session ends (signed out elsewhere, or idle): the page's next call sends the browser
    # to the sign-in form, which brings it back to /scan.
    browser.delete_all_cookies()
    browser.find_element(By.ID, "refresh").click()
    wait.until(lambda d: d.find_elements(By.ID, "password"))
    assert browser.current_url.endswith("/?next=/scan")


def shipment_packs(database, number: str) -> list:
    keys = label_keys.load(Settings.from_environment())
    return database.lookup(
        lambda store: [
            pack_info(store, keys, pack)
            for pack in scans.shipment_packs(store, store.transaction_by_number(number).sequence)
        ]
    )


def test_a_short_arrival_is_written_off_only_when_named_on_the_page(server, browser, tmp_path):
    _, database, _ = server
    ledger = Ledger(database, clock=lambda: TODAY)
    lines = (c.LineSpec("NH2014", 2, unit="捆"), c.LineSpec("BYT", 1, unit="箱"))
    shipment = ledger.issue(c.Issue("510121", "510121-ZJ", lines))
    first, second, box = sorted(
        shipment_packs(database, shipment.number), key=lambda p: (p.item_code == "BYT", p.serial)
    )
    assert (box.item_code, box.quantity, first.item_code) == ("BYT", 720, "NH2014")
    transit = on_hand(database, "in-transit")
    wait = WebDriverWait(browser, 15)
    browser.set_window_size(390, 1400)  # a phone

    sign_in_to_scan(browser, server, "requester")
    wait.until(lambda d: "赵家镇" in text_of(d, "who"))
    Select(browser.find_element(By.ID, "purpose")).select_by_value("confirm")
    browser.find_element(By.ID, "shipment").send_keys(shipment.number)
    browser.find_element(By.ID, "open").click()
    wait.until(lambda d: "到货签收" in text_of(d, "title"))
    browser.switch_to.active_element.send_keys(first.payload + Keys.ENTER)
    wait.until(lambda d: text_of(d, "total-packs") == "1")
    browser.switch_to.active_element.send_keys(box.payload + Keys.ENTER)
    wait.until(lambda d: text_of(d, "total-packs") == "2")
    assert text_of(browser, "total-quantity") == "720 只、500 张"  # never 1220

    # One tap on 完成过账 writes nothing off: it shows what is missing.
    browser.find_element(By.ID, "post").click()
    wait.until(lambda d: d.find_element(By.ID, "shortage").is_displayed())
    assert on_hand(database, "in-transit") == transit  # nothing posted
    assert "warn" in browser.find_element(By.ID, "feedback").get_attribute("class")
    assert "到货不足，短少 500 张" in text_of(browser, "feedback")
    missing = text_of(browser, "missing")
    assert "年画" in missing and "2014-01" in missing
    assert "1000 张" in missing and "500 张" in missing
    assert f"未扫到的包：年画 2014-01 第 {second.serial} 包" == text_of(browser, "missing-packs")
    button = browser.find_element(By.ID, "confirm-shortage")
    assert button.text == "请先选择短少原因" and not button.is_enabled()  # no reason chosen for one
    Select(browser.find_element(By.ID, "shortage-reason")).select_by_value("other")
    assert not button.is_enabled()  # 其他 needs a note
    browser.find_element(By.ID, "shortage-note").send_keys("外包装破损，一捆受潮")
    Select(browser.find_element(By.ID, "shortage-reason")).select_by_value("damaged")
    assert button.is_enabled()
    assert button.text == "将记录短少 500 张，原因：破损（外包装破损，一捆受潮）"
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= browser.execute_script("return window.innerWidth")  # nothing off-screen
    shot = tmp_path / "scan-shortage-390.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

    button.click()
    wait.until(lambda d: "已过账" in text_of(d, "feedback"))
    assert "已记录短少 500 张" in text_of(browser, "feedback")
    assert not browser.find_element(By.ID, "shortage").is_displayed()
    number = text_of(browser, "feedback").split("：")[1].split("，")[0]
    confirmation = database.lookup(lambda store: store.transaction_by_number(number))
    assert confirmation.reason == "damaged"
    assert confirmation.memo.endswith("；短少原因：破损，外包装破损，一捆受潮")
    assert on_hand(database, "in-transit") == transit - 1000  # NH2014: 500 arrived, 500 short
    assert on_hand(database, "510121-ZJ") > 0 and on_hand(database, "adjustment") >= 500
    assert browser.save_screenshot(str(tmp_path / "scan-shortage-posted-390.png"))
