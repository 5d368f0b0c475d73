"""The scan page end to end: a real server, headless Chromium typing labels as a scanner does.

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
from selenium.webdriver.support.ui import WebDriverWait

from api.app import create_app
from ledger.db import queries
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.services import label_keys
from ledger.services.ledger import Ledger
from ledger.services.scanning import Scanning
from ledger.settings import Settings
from tests.api.conftest import build_template, token
from tests.conftest import TODAY


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


def text_of(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def stock(database) -> tuple[int, int]:
    """NH2014 2014-01 on hand at 成都市 and in transit."""
    with database.read() as connection:
        rows = queries.balances(connection, None, "NH2014", "2014-01", include_virtual=True)
    by_location = {row.location_code: row.on_hand for row in rows}
    return by_location["510100"], by_location.get("in-transit", 0)


def test_a_clerk_scans_a_shipment_in_the_browser(server, browser):
    base, database, _ = server
    city, transit = stock(database)
    keys = label_keys.load(Settings.from_environment())
    scanning = Scanning(Ledger(database, clock=lambda: TODAY), keys)
    first, second = (p.payload for p in scanning.packs("NH2014", "2014-01", "510100")[:2])
    wait = WebDriverWait(browser, 15)

    browser.get(f"{base}/scan")
    browser.find_element(By.ID, "token").send_keys(token("clerk-city"))
    browser.find_element(By.ID, "save-token").click()
    wait.until(lambda d: "成都市" in text_of(d, "who"))
    assert browser.find_element(By.ID, "location").get_attribute("value") == "510100"
    browser.find_element(By.ID, "destination").send_keys("510121")
    browser.find_element(By.ID, "open").click()
    wait.until(lambda d: "出库" in text_of(d, "title"))
    box = browser.find_element(By.ID, "payload")
    assert browser.switch_to.active_element == box  # the scanner types into it
    box.send_keys(first + Keys.ENTER)
    wait.until(lambda d: text_of(d, "total-packs") == "1")
    browser.switch_to.active_element.send_keys(second.lower() + Keys.ENTER)
    wait.until(lambda d: text_of(d, "total-packs") == "2")
    assert text_of(browser, "total-quantity") == "1000"
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
    browser.find_element(By.ID, "post").click()
    wait.until(lambda d: "已过账" in text_of(d, "feedback"))
    assert "CK-2026-" in text_of(browser, "feedback")

    assert stock(database) == (city - 500, transit + 500)
    assert [p.location_code for p in scanning.packs("NH2014", "2014-01")].count("in-transit") >= 1
    moved = scanning.resolve(first)
    assert moved.location_code == "in-transit" and moved.state == "in_transit"
