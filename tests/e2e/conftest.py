"""Browser fixtures: headless Chromium and ChromeDriver from Debian's packages, with a font
that has Chinese glyphs (the report pages are in Chinese). The fixture installs what is
missing (the machine's CI runs as root) and fails — never skips — when it cannot."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1000,1400",
)
FIRST_WINDOW = (1000, 1400)


PACKAGES = ("chromium", "chromium-driver", "fonts-wqy-microhei")


def _chinese_font() -> bool:
    listed = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True)
    return listed.returncode == 0 and bool(listed.stdout.strip())


def _apt_install() -> subprocess.CompletedProcess:
    return subprocess.run(
        ["apt-get", "install", "-y", "-q", *PACKAGES],
        capture_output=True,
        text=True,
        env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        timeout=900,
    )


def ensure_chromium() -> tuple[str, str]:
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser and driver and _chinese_font():
        return browser, driver
    # Test workers run side by side (pytest-xdist): one installs while the others wait.
    with open(Path(tempfile.gettempdir()) / "ledger-tests-chromium.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
        if browser and driver and _chinese_font():
            return browser, driver
        install = _apt_install()
        if install.returncode != 0:  # the package lists may be stale on a fresh machine
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, timeout=600)
            install = _apt_install()
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver and _chinese_font()):
        pytest.fail(f"could not install {', '.join(PACKAGES)}: {install.stderr[-2000:]}")
    return browser, driver


class Chromium:
    """One headless Chromium kept for a test process (starting one takes a second or two),
    given to each test as new: `forget` clears what a test left (cookies, cache, the site data
    of the page it ended on, other windows, the window's size); when that fails the browser is
    quit and the next test starts another."""

    def __init__(self) -> None:
        self.driver: webdriver.Chrome | None = None

    def start(self) -> webdriver.Chrome:
        if self.driver is None:
            chromium, chromedriver = ensure_chromium()
            options = webdriver.ChromeOptions()
            options.binary_location = chromium
            for flag in CHROMIUM_FLAGS:
                options.add_argument(flag)
            self.driver = webdriver.Chrome(service=Service(chromedriver), options=options)
        return self.driver

    def forget(self) -> None:
        driver = self.driver
        if driver is None:
            return
        try:
            for handle in driver.window_handles[1:]:
                driver.switch_to.window(handle)
                driver.close()
            driver.switch_to.window(driver.window_handles[0])
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(driver.current_url))
            if origin.startswith("http"):  # local storage, IndexedDB, service workers, caches
                driver.execute_cdp_cmd(
                    "Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"}
                )
            driver.get("about:blank")
            driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
            driver.execute_cdp_cmd("Network.clearBrowserCache", {})
            driver.set_window_size(*FIRST_WINDOW)
        except Exception:  # an alert left open, a crashed tab …: a new browser next time
            self.quit()

    def quit(self) -> None:
        if self.driver is not None:
            self.driver.quit()
            self.driver = None


@pytest.fixture(scope="session")
def chromium():
    kept = Chromium()
    yield kept
    kept.quit()


@pytest.fixture
def browser(chromium):
    """Headless Chromium as new (the process's one, cleared after each test)."""
    yield chromium.start()
    chromium.forget()


# -- the 工作台 (web workspace): tests/e2e/workspace.py has the helpers ---------------------------


@pytest.fixture(scope="session")
def workspace_template(tmp_path_factory) -> Path:
    """The demo city ending on TODAY, loaded once per test process."""
    from tests.e2e.workspace import build_demo

    return build_demo(tmp_path_factory.mktemp("workspace-template") / "demo.db")


@pytest.fixture(scope="module")
def workspace(workspace_template, tmp_path_factory):
    """The app over a copy of the demo city, served by uvicorn on a free loopback port, one per
    test module (`.base` is its address, `.database` its ledger)."""
    from tests.e2e.workspace import LiveServer

    server = LiveServer.start(workspace_template, tmp_path_factory.mktemp("workspace"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def workspace_browser():
    """One headless Chromium per test module, keeping its console and network logs."""
    from tests.e2e.workspace import new_browser

    driver = new_browser(*ensure_chromium(), CHROMIUM_FLAGS)
    yield driver
    driver.quit()


@pytest.fixture
def workspace_page(workspace, workspace_browser):
    """The module's browser on the module's server, signed out, at 1280 px."""
    from tests.e2e.workspace import Page

    page = Page(workspace_browser, workspace.base)
    workspace_browser.get(workspace.base + "/static/web/icon.svg")  # on the origin, no page
    workspace_browser.delete_all_cookies()
    page.resize(1280)
    page.drain()
    return page
