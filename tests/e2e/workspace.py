"""Helpers for driving the 工作台 (web workspace) in headless Chromium.

A test gets a live server (the app over a copy of the demo city, clock fixed to TODAY, served
by uvicorn in a thread) and one browser per module (fixtures `workspace` and
`workspace_browser` in conftest.py). With them:

    page = Page(browser, workspace.base)
    page.sign_in("clerk@510121")
    visit = page.visit("/stock")          # the logs of this load only
    page.screenshot(request, "stock")     # build/screenshots/<test>-stock-<width>.png
    page.check(visit)                     # every check below

Checks on every page: nothing requested from another origin (Chromium's performance log,
Network.requestWillBeSent), no console error (the browser log, which also carries CSP
violations), no horizontal overflow of the document (tables scroll inside .table-wrap), and a
label for every form field (<label for>, a wrapping <label>, aria-label or aria-labelledby).

To add a role's flow when its pages land: sign in with `page.sign_in(login)`, drive the forms
with `page.fill({...})` / `page.submit()`, and call `page.check(page.visit(path))` and
`page.screenshot(...)` at the pages worth looking at.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import socket
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from api.auth import SESSION_COOKIE
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.services.demo import DEMO_PASSWORD, DEMO_USERS, demo_login, load_demo
from tests.clones import copy_sqlite
from tests.conftest import TODAY

# Each demo user's login name and the label the page header shows for it.
DEMO_LABELS: dict[str, str] = {
    demo_login(role, location): label for role, location, label in DEMO_USERS
}
DEMO_LOGINS: tuple[str, ...] = tuple(DEMO_LABELS)

# (width, height) of a phone and of an office PC's window.
WINDOWS: dict[int, tuple[int, int]] = {390: (390, 844), 1280: (1280, 900)}
WIDTHS: tuple[int, ...] = tuple(WINDOWS)

OUTER: dict[int, list[int]] = {}  # the window size that gives each, once found

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
FIRST_LOAD_MAX = 200_000  # bytes transferred for a first page load, cold cache
WAIT = 10  # seconds a page may take to answer in a test

# The browser log's line for a document answered with an error status: a page that is not
# built yet answers 404, and that page is checked like any other.
_STATUS_LINE = re.compile(r"^(\S+) - Failed to load resource: the server responded with a status")


# -- the server --------------------------------------------------------------------------------


def build_demo(path: Path) -> Path:
    """The demo city ending on TODAY in a migrated SQLite file at `path`."""
    database = Database(make_engine(copy_sqlite(path)))
    load_demo(database, TODAY)
    database.dispose()
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LiveServer:
    """The app served by uvicorn in a thread on a free loopback port."""

    base: str
    database: Database
    server: uvicorn.Server
    thread: threading.Thread

    @classmethod
    def start(cls, template: Path, directory: Path, wrap=None) -> LiveServer:
        """wrap(app): an ASGI app around the app (a test's request log), if given."""
        from api.app import create_app

        copy = directory / "workspace.db"
        shutil.copyfile(template, copy)
        database = Database(make_engine(f"sqlite:///{copy}"))
        port = free_port()
        app = create_app(database, clock=lambda: TODAY)
        config = uvicorn.Config(
            wrap(app) if wrap else app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the workspace server did not start")
            time.sleep(0.05)
        return cls(f"http://127.0.0.1:{port}", database, server, thread)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.database.dispose()


# -- the browser -------------------------------------------------------------------------------


def new_browser(chromium: str, chromedriver: str, flags: tuple[str, ...]) -> WebDriver:
    """Headless Chromium keeping its console log and its network events (performance log)."""
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in flags:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(chromedriver), options=options)


@dataclass
class Visit:
    """What one page load did: the URL asked for, the document's status, every URL requested,
    the bytes transferred and the console's errors."""

    url: str
    status: int | None = None
    requested: list[str] = field(default_factory=list)
    transferred: int = 0
    console_errors: list[str] = field(default_factory=list)


def _network(entries: list[dict]) -> tuple[list[str], int, dict[str, int]]:
    """From performance log entries: URLs requested, bytes transferred, documents' statuses."""
    requested: list[str] = []
    transferred = 0
    documents: dict[str, int] = {}
    for entry in entries:
        message = json.loads(entry["message"])["message"]
        method, params = message.get("method"), message.get("params", {})
        if method == "Network.requestWillBeSent":
            requested.append(params["request"]["url"])
        elif method == "Network.loadingFinished":
            transferred += int(params.get("encodedDataLength", 0))
        elif method == "Network.responseReceived" and params.get("type") == "Document":
            documents[params["response"]["url"]] = int(params["response"]["status"])
    return requested, transferred, documents


class Page:
    """The browser on the workspace: window size, signing in and out, visits and checks."""

    def __init__(self, driver: WebDriver, base: str) -> None:
        self.driver = driver
        self.base = base
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(base))

    # window and logs
    def resize(self, width: int) -> None:
        """The page's own size (innerWidth × innerHeight) at WINDOWS[width]: the window's
        frame, if it has one, is added around it (a resize may take a moment to show)."""
        w, h = WINDOWS[width]
        outer = OUTER.get(width, [w, h])
        inner: list[int] = []
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            self.driver.set_window_size(*outer)
            for _ in range(10):
                inner = self.driver.execute_script("return [innerWidth, innerHeight]")
                if inner == [w, h]:
                    OUTER[width] = outer
                    return
                time.sleep(0.02)
            outer = [outer[0] + w - inner[0], outer[1] + h - inner[1]]
        raise AssertionError(f"the page is {inner[0]}×{inner[1]} px, not {w}×{h}")

    @property
    def width(self) -> int:
        return int(self.driver.execute_script("return window.innerWidth"))

    def drain(self) -> tuple[list[dict], list[dict]]:
        """The browser's and the performance log's entries since the last call."""
        return self.driver.get_log("browser"), self.driver.get_log("performance")

    def cold(self) -> None:
        """Forget every cached response (the next load is a first visit's)."""
        self.driver.execute_cdp_cmd("Network.clearBrowserCache", {})

    def record(self, url: str, action, ready: str = "") -> Visit:
        """Run `action` (a load, a click, a key) and return what the browser did meanwhile,
        once the page is loaded (and shows an element matching the CSS selector `ready`)."""
        self.drain()
        action()
        self.settle(ready)
        console, performance = self.drain()
        requested, transferred, documents = _network(performance)
        status = documents.get(url)
        if status is None and documents:
            status = list(documents.values())[-1]
        errors = [
            entry["message"]
            for entry in console
            if entry["level"] == "SEVERE" and not _document_status_line(entry["message"], documents)
        ]
        return Visit(url, status, requested, transferred, errors)

    def settle(self, ready: str = "") -> None:
        """Wait until the page is loaded, htmx has no request in flight (a part the page
        loads or swaps in) and, if given, an element matches the CSS selector `ready`."""
        WebDriverWait(self.driver, WAIT).until(
            lambda d: (
                d.execute_script(SETTLED_JS)
                and (not ready or d.find_elements(By.CSS_SELECTOR, ready))
            )
        )

    def visit(self, path: str, ready: str = "") -> Visit:
        """Load a page of the app (`ready`: a CSS selector the page must show, for a page that
        draws itself with script after loading)."""
        url = self.base + path
        return self.record(url, lambda: self.driver.get(url), ready)

    # signing in and out
    def sign_in(self, login: str, password: str = DEMO_PASSWORD, expect_ok: bool = True) -> Visit:
        """Sign in through the form at `/` as a person does: type, then press the button."""
        if not self.driver.find_elements(By.ID, "password"):
            self.visit("/")
        self.fill({"login": login, "password": password})
        visit = self.record(self.base + "/", self.submit)
        if expect_ok:
            assert not self.driver.find_elements(By.ID, "password"), self.error_text()
        return visit

    def resume(self, login: str, sessions: dict[str, dict]) -> None:
        """Signed in as `login` again with its saved session cookie, or through the form the
        first time (saving the cookie in `sessions`): a module's tests need not each pay for a
        password check. The page shown afterwards is not defined: visit one."""
        if login in sessions:
            self.driver.add_cookie(sessions[login])
            return
        self.sign_in(login)
        cookie = next(c for c in self.driver.get_cookies() if c["name"] == SESSION_COOKIE)
        sessions[login] = cookie

    def sign_out(self) -> Visit:
        button = self.driver.find_element(By.CSS_SELECTOR, "header .who form button")
        visit = self.record(self.base + "/", button.click)
        WebDriverWait(self.driver, WAIT).until(lambda d: d.find_elements(By.ID, "password"))
        return visit

    def fill(self, values: dict[str, str]) -> None:
        """Type into fields by id (cleared first)."""
        for element_id, value in values.items():
            element = self.driver.find_element(By.ID, element_id)
            element.clear()
            element.send_keys(value)

    def choose(self, values: dict[str, str]) -> None:
        """Pick options of <select>s by id, each by its value or else its text, and wait for
        what htmx loads on the change."""
        from selenium.webdriver.support.ui import Select

        for element_id, wanted in values.items():
            select = Select(self.driver.find_element(By.ID, element_id))
            values_there = [option.get_attribute("value") for option in select.options]
            if wanted in values_there:
                select.select_by_value(wanted)
            else:
                select.select_by_visible_text(wanted)
            self.settle()

    def submit(self, form: str = "main form") -> None:
        """Press the submit button of the first form matching `form` and wait for the next
        page."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.find_element(By.CSS_SELECTOR, f"{form} button[type=submit]").click()
        WebDriverWait(self.driver, WAIT).until(lambda _: _stale(old))

    # driving a flow (added for the flows' tests: test_workspace_flow_*.py)
    def press(self, css: str, ready: str = "", accept: bool = False, leaves: bool = True) -> Visit:
        """Click the button or link matching the CSS selector `css` as a person does (scrolled
        into view first) and return what the browser did until the page is settled and shows
        `ready`. accept: answer OK to the confirm() it asks (a data-confirm button or form);
        leaves: the click loads another page (False for an htmx swap or a script)."""
        old = self.driver.find_element(By.TAG_NAME, "html")

        def click() -> None:
            target = self.driver.find_element(By.CSS_SELECTOR, css)
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", target)
            target.click()
            if accept:
                WebDriverWait(self.driver, WAIT).until(lambda d: _alert(d)).accept()
            if leaves:
                WebDriverWait(self.driver, WAIT).until(lambda _: _stale(old))

        return self.record(self.driver.current_url, click, ready)

    def become(self, login: str, sessions: dict[str, dict]) -> None:
        """Signed in as `login` instead of whoever is (see `resume`); visit a page next."""
        self.driver.delete_all_cookies()
        self.resume(login, sessions)

    def step(self, visit: Visit, test_name: str, what: str, status: int | None = 200) -> Visit:
        """A flow's step: the page answered `status` (None: a script changed the page, no
        page was loaded), is photographed and passes `check`."""
        assert visit.status == status, f"{what}: {visit.url} answered {visit.status}"
        self.screenshot(test_name, what)
        self.check(visit)
        return visit

    def set_value(self, values: dict[str, str]) -> None:
        """Set <input type="date|month"> fields by id as the date picker would (Chromium's
        typing order for them depends on the locale), with the input and change events."""
        for element_id, value in values.items():
            self.driver.execute_script(
                "const el = document.getElementById(arguments[0]); el.value = arguments[1];"
                "el.dispatchEvent(new Event('input', {bubbles: true}));"
                "el.dispatchEvent(new Event('change', {bubbles: true}));",
                element_id,
                value,
            )

    def fetch(self, href: str) -> tuple[int, str, bytes]:
        """GET `href` from the page with its session (as a link the user follows would, without
        leaving the page): the status, the content type and the body."""
        found = self.driver.execute_async_script(FETCH_JS, href)
        return int(found[0]), str(found[1]), base64.b64decode(found[2])

    def text_of(self, css: str) -> str:
        """The visible text of the first element matching `css` ('' when none)."""
        found = self.driver.find_elements(By.CSS_SELECTOR, css)
        return found[0].text if found else ""

    def wait_for(self, condition, timeout: float = WAIT) -> None:
        """Wait until condition(driver) is true (a script's answer on the page)."""
        WebDriverWait(self.driver, timeout).until(condition)

    def who(self) -> str:
        """The header's line naming the signed-in user ('' when nobody is)."""
        found = self.driver.find_elements(By.CSS_SELECTOR, "header .who .account")
        return found[0].text if found else ""

    def menu(self) -> list[tuple[str, str]]:
        """The menu's links as (path, text)."""
        links = self.driver.find_elements(By.CSS_SELECTOR, "nav.menu a")
        return [(urlsplit(link.get_attribute("href") or "").path, link.text) for link in links]

    def error_text(self) -> str:
        found = self.driver.find_elements(By.CSS_SELECTOR, "[role=alert]")
        return found[0].text if found else ""

    # the checks
    def screenshot(self, test_name: str, what: str = "") -> Path:
        """The whole page (beyond the window) as build/screenshots/<test>[-what]-<width>.png
        (`shot_name(request)` names the test without its width)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        size = self.driver.execute_script(
            "return [Math.max(window.innerWidth, document.documentElement.scrollWidth), document.documentElement.scrollHeight]"
        )
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "optimizeForSpeed": True,
                "clip": {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1},
            },
        )
        name = "-".join(part for part in (test_name, what, str(self.width)) if part)
        path = SCREENSHOTS / (re.sub(r"[^\w@.-]+", "_", name).strip("_") + ".png")
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def other_origins(self, visit: Visit) -> list[str]:
        return [
            url
            for url in visit.requested
            if not (url.startswith((self.origin + "/", "data:")) or url == self.origin)
        ]

    def overflow(self) -> int:
        """How many px the document is wider than the window, its vertical scrollbar left out
        (0: none; a wide table scrolls inside its .table-wrap instead)."""
        return int(
            self.driver.execute_script(
                "const root = document.documentElement; return root.scrollWidth - root.clientWidth"
            )
        )

    def unlabelled(self) -> list[str]:
        """Form fields with no label: their tag, id and name."""
        return self.driver.execute_script(UNLABELLED_JS)

    def check(self, visit: Visit, known: Collection[str] = ()) -> list[str]:
        """Every page check, with the page's address in each message. known: the gaps a test
        names and reports instead of failing on (a console error containing one of these
        texts, a field as `unlabelled` names it); returns those found on this page."""
        where = f"{visit.url} at {self.width} px"
        others = self.other_origins(visit)
        assert not others, f"{where} asked another origin: {others}"
        found = [e for e in visit.console_errors if any(k in e for k in known)]
        errors = [e for e in visit.console_errors if e not in found]
        assert not errors, f"{where} console errors: {errors}"
        assert self.overflow() <= 0, f"{where} is {self.overflow()} px wider than the window"
        unlabelled = self.unlabelled()
        found += [name for name in unlabelled if name in known]
        unlabelled = [name for name in unlabelled if name not in known]
        assert not unlabelled, f"{where} has fields without a label: {unlabelled}"
        return found


SETTLED_JS = """
return document.readyState === "complete" && !document.querySelector(".htmx-request");
"""

UNLABELLED_JS = """
const skip = new Set(["hidden", "submit", "button", "reset", "image"]);
const named = (el) => {
  if (el.labels && el.labels.length) return true;
  if ((el.getAttribute("aria-label") || "").trim()) return true;
  const ids = (el.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean);
  return ids.some((id) => { const l = document.getElementById(id); return l && l.textContent.trim(); });
};
return Array.from(document.querySelectorAll("input, select, textarea"))
  .filter((el) => !(el.tagName === "INPUT" && skip.has((el.type || "").toLowerCase())))
  .filter((el) => !named(el))
  .map((el) => `${el.tagName.toLowerCase()}#${el.id || ""}[name=${el.getAttribute("name") || ""}]`);
"""


def shot_name(request) -> str:
    """A test's name for its screenshots: the function and its parameters but the width (the
    screenshot adds the width it was taken at)."""
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    kept = [str(value) for key, value in params.items() if key != "width"]
    return "-".join([request.node.originalname, *kept])


def _document_status_line(message: str, documents: dict[str, int]) -> bool:
    """The console's note that a page itself answered an error status (a page not built yet,
    a refused sign-in): the test checks the status, the console check is for everything else."""
    found = _STATUS_LINE.match(message)
    return found is not None and found.group(1) in documents


FETCH_JS = """
const [href, done] = arguments;
fetch(href, {credentials: "same-origin"}).then(async (response) => {
  const bytes = new Uint8Array(await response.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  done([response.status, response.headers.get("content-type") || "", btoa(text)]);
}).catch((error) => done([0, String(error), ""]));
"""


def _alert(driver):
    """The open alert or confirm dialog, or False."""
    try:
        return driver.switch_to.alert
    except Exception:  # NoAlertPresentException
        return False


def _stale(element) -> bool:
    try:
        element.is_enabled()
    except Exception:  # StaleElementReferenceException: the page was replaced
        return True
    return False
