"""/scan's queue on the device: how fast the scans kept offline are sent when the network returns.

    .venv/bin/python -m bench.scan_queue                   # 200 scans, 3 runs
    .venv/bin/python -m bench.scan_queue --scans 50 --runs 1 --profile

Loads the demo city (as the e2e tests do: tests/e2e/workspace.py) and, for each run and each
way of sending, serves a fresh copy of it on loopback (uvicorn in a thread) to a fresh headless
Chromium. The city's clerk signs in, opens an 出库 scan document to 510121 on /scan and scans
`--scans` sealed 历书 (LS2014 2014-01) packs by typing each label into #payload with Enter:

- queued: the network is cut on the page and its service worker (DevTools protocol,
  tests/e2e/devtools.py), the labels are typed (each is stored in IndexedDB as 待上传), then
  the network is restored. Timed on the page, from its `online` event to the moment #queue
  shows no 待上传 (a MutationObserver on #queue and #queue-count installed by this script;
  scan.js is not changed); and from the script's side, from asking DevTools to restore the
  network to polling (every 20 ms) a 0 待上传.
- live: the same number of labels typed online, each after the answer to the one before.
  Timed on the page per label, from the Enter key (a capturing keydown listener) to the
  page's scan:feedback for it; the typing itself (ChromeDriver sends the ~60 characters one
  key event at a time) is not in it, but it is in the wall time.

Server side, an ASGI wrapper around the app (LiveServer.start(..., wrap=...)) times every
POST /api/v1/scans from the request arriving to the last byte of its answer. The page's
Resource Timing entries of those POSTs give each request's time in the browser and the gap
between one answer and the next request (the page's own work between two sends: IndexedDB,
drawing the page). `--profile` also samples the page's JavaScript during the flush (the
DevTools Profiler, 100 µs) and lists the functions with the most self time.

Every run asserts that the server's document then holds exactly the packs typed, each once.
The page is 390 px wide (a phone: the queue's tables are cards). The app's request log goes to
stderr as it does when served (`2>/dev/null` for the figures alone).
Not part of `bench.run_all`: its figures are kept in their own section of BENCHMARKS.md by hand.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from bench.scan_queue_profile import Profiles
from ledger.services import label_keys, scanning
from ledger.settings import Settings
from tests.e2e.conftest import CHROMIUM_FLAGS, ensure_chromium
from tests.e2e.devtools import DevTools
from tests.e2e.workspace import LiveServer, Page, build_demo, new_browser

CLERK, CITY, COUNTY = "clerk@510100", "510100", "510121"
ITEM, BATCH = "LS2014", "2014-01"  # 历书: one batch at the city, 280 labelled packs
SCANS_PATH = "/api/v1/scans"
POLL_S = 0.02
WAIT_S = 300

# The page's own records, kept by listeners this script adds (scan.js is not changed).
INSTRUMENT_JS = """
const b = window.__bench = {online: [], counts: [], enter: [], feedback: [], packs: []};
performance.setResourceTimingBufferSize(10000);
window.addEventListener('online', () => b.online.push(performance.now()));
document.addEventListener('keydown', e => {
  if (e.key === 'Enter' && e.target.id === 'payload') b.enter.push(performance.now());
}, true);
document.addEventListener('scan:feedback',
  e => b.feedback.push([performance.now(), e.detail.kind]));
const q = document.getElementById('queue'), n = document.getElementById('queue-count');
const look = () => {
  const c = q.classList.contains('hidden') ? 0 : Number(n.textContent);
  const last = b.counts[b.counts.length - 1];
  if (!last || last[1] !== c) b.counts.push([performance.now(), c]);
};
new MutationObserver(look).observe(q, {attributes: true, attributeFilter: ['class']});
new MutationObserver(look).observe(n, {childList: true, characterData: true, subtree: true});
const total = document.getElementById('total-packs');
new MutationObserver(() => b.packs.push([performance.now(), Number(total.textContent)]))
  .observe(total, {childList: true, characterData: true, subtree: true});
"""
WAITING_JS = """
const q = document.getElementById('queue'), n = document.getElementById('queue-count');
return q.classList.contains('hidden') ? 0 : Number(n.textContent);
"""
POSTS_JS = """
return performance.getEntriesByType('resource')
  .filter(e => e.name.endsWith(arguments[0]) && e.initiatorType === 'fetch')
  .map(e => [e.startTime, e.responseEnd]);
"""
PACKS_AT_LEAST_JS = """
const done = arguments[arguments.length - 1], want = arguments[0], b = window.__bench;
const shown = () => b.packs.length && b.packs[b.packs.length - 1][1] >= want;
if (shown()) { done(true); return; }
const box = document.getElementById('total-packs');
const seen = new MutationObserver(() => { if (shown()) { seen.disconnect(); done(true); } });
seen.observe(box, {childList: true, characterData: true, subtree: true});
"""
# ScanQueue.entries(user): the read scan.js makes before each send (every entry of the user).
READ_QUEUE_JS = """
const done = arguments[arguments.length - 1], user = window.ScanPage.state.user, times = [];
(async () => {
  for (let i = 0; i < 5; i++) {
    const t = performance.now(); await window.ScanQueue.entries(user);
    times.push(performance.now() - t);
  }
  done(times);
})();
"""


class PostTimer:
    """Times each POST /api/v1/scans in the server (perf_counter seconds: start, end, status)."""

    def __init__(self) -> None:
        self.posts: list[tuple[float, float, int]] = []

    def wrap(self, app):
        async def timed(scope, receive, send):
            if scope["type"] != "http" or scope["path"] != SCANS_PATH or scope["method"] != "POST":
                await app(scope, receive, send)
                return
            started, status = time.perf_counter(), 0

            async def sending(message):
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    self.posts.append((started, time.perf_counter(), status))

            await app(scope, receive, sending)

        return timed


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def spread(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(percentile(values, 0.5), 1),
        "p95": round(percentile(values, 0.95), 1),
        "max": round(max(values), 1),
        "mean": round(statistics.fmean(values), 1),
    }


def open_issue(page: Page) -> int:
    page.visit("/scan", ready="#purpose")
    page.choose({"destination": COUNTY})
    page.driver.find_element(By.ID, "open").click()
    page.wait_for(lambda d: "出库" in d.find_element(By.ID, "title").text)
    page.wait_for(lambda d: d.find_element(By.ID, "documents").get_attribute("value"))
    return int(page.driver.find_element(By.ID, "documents").get_attribute("value") or 0)


def worker_ready(page: Page) -> None:
    """The service worker controls the page (as it does for a clerk who opened it before)."""
    page.wait_for(
        lambda d: d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "if (!navigator.serviceWorker.controller) { done(false); return; }"
            "caches.open('ledger-scan-pages').then(c => c.match('/scan'))"
            ".then(r => done(!!r), () => done(false));"
        ),
        30,
    )


def type_label(page: Page, payload: str) -> None:
    page.driver.find_element(By.ID, "payload").send_keys(payload + Keys.ENTER)


def wait_until(condition, what: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s} s")
        time.sleep(POLL_S)


def post_figures(page: Page, timer: PostTimer, since_ms: float, since_s: float) -> dict:
    """The POSTs of scans after a moment: the server's time, the browser's, the gaps between."""
    browser = [p for p in page.driver.execute_script(POSTS_JS, SCANS_PATH) if p[0] >= since_ms]
    server = [p for p in timer.posts if p[0] >= since_s]
    gaps = [later[0] - earlier[1] for earlier, later in itertools.pairwise(browser)]
    tenth = max(1, len(gaps) // 10)
    return {
        "statuses": dict(Counter(status for _, _, status in server)),
        "server_ms": spread([(end - start) * 1000 for start, end, _ in server]),
        "server_busy_ms": round(sum(end - start for start, end, _ in server) * 1000),
        "browser_ms": spread([end - start for start, end in browser]),
        "gap_ms": spread(gaps),
        "gap_first_tenth_ms": round(statistics.fmean(gaps[:tenth]), 1) if gaps else None,
        "gap_last_tenth_ms": round(statistics.fmean(gaps[-tenth:]), 1) if gaps else None,
    }


def session(server: LiveServer, chromium: tuple[str, str]):
    """A browser at a phone's width, the clerk signed in, an issue open, the recorders on."""
    driver = new_browser(*chromium, CHROMIUM_FLAGS)
    try:
        page = Page(driver, server.base)
        page.resize(390)
        page.sign_in(CLERK)
        document = open_issue(page)
        worker_ready(page)
        driver.execute_script(INSTRUMENT_JS)
    except BaseException:
        driver.quit()
        raise
    return driver, page, document


def queued(server: LiveServer, timer: PostTimer, packs, chromium, profile: bool) -> dict:
    """The scans typed offline, then the network restored; until 0 待上传."""
    driver, page, document = session(server, chromium)
    devtools = DevTools(driver)
    try:
        assert set(devtools.network(online=False)) == {"service_worker", "page"}
        typed = time.perf_counter()
        for pack in packs:
            type_label(page, pack.payload)
        wait_until(lambda: driver.execute_script(WAITING_JS) == len(packs), "queued")
        typing_s = time.perf_counter() - typed
        read_queue_ms = driver.execute_async_script(READ_QUEUE_JS)
        profiles = Profiles(driver) if profile else None
        if profiles:
            profiles.start()
        since_ms = driver.execute_script("return performance.now()")
        restored = time.perf_counter()
        devtools.network(online=True)
        wait_until(lambda: driver.execute_script(WAITING_JS) == 0, "flushed")
        polled_ms = (time.perf_counter() - restored) * 1000
        where = profiles.stop() if profiles else {}
        bench = driver.execute_script("return window.__bench")
        posts = post_figures(page, timer, since_ms, restored)
    finally:
        devtools.network(online=True)
        driver.quit()
        devtools.close()
    online_at = [t for t in bench["online"] if t >= since_ms]
    assert online_at, "the page had no online event"
    emptied = [t for t, c in bench["counts"] if c == 0 and t >= online_at[0]]
    page_ms = emptied[0] - online_at[0]
    assert posts["statuses"] == {200: len(packs)}, posts["statuses"]
    return {
        "typing_s": round(typing_s, 1),
        "read_queue_ms": [round(t, 1) for t in read_queue_ms],
        "online_to_empty_ms": round(page_ms),
        "restore_to_polled_empty_ms": round(polled_ms),
        "scans_per_s": round(len(packs) / page_ms * 1000, 1),
        "document": document,
        "profile": where,
        **posts,
    }


def live(server: LiveServer, timer: PostTimer, packs, chromium) -> dict:
    """The scans typed online, each after the page showed the answer to the one before."""
    driver, page, document = session(server, chromium)
    try:
        since_ms = driver.execute_script("return performance.now()")
        started = time.perf_counter()
        for count, pack in enumerate(packs, 1):
            type_label(page, pack.payload)
            driver.set_script_timeout(30)
            driver.execute_async_script(PACKS_AT_LEAST_JS, count)
        wall_s = time.perf_counter() - started
        bench = driver.execute_script("return window.__bench")
        posts = post_figures(page, timer, since_ms, started)
    finally:
        driver.quit()
    assert len(bench["enter"]) == len(packs)
    shown: dict[int, float] = {}  # the page's 已扫 count -> when it first showed it
    for moment, count in bench["packs"]:
        shown.setdefault(count, moment)
    answers = [shown[count] - enter for count, enter in enumerate(bench["enter"], 1)]
    return {
        "wall_s": round(wall_s, 1),
        "wall_scans_per_s": round(len(packs) / wall_s, 1),
        "enter_to_answer_ms": spread(answers),
        "scans_per_s": round(1000 / statistics.fmean(answers), 1),
        "document": document,
        # A label typed right after the answer before it, while that entry is still being
        # removed from the device: the page says "queued" (排队上传) though it is online.
        "feedback": dict(Counter(kind for _, kind in bench["feedback"])),
        **posts,
    }


def checked(server: LiveServer, document: int, packs) -> None:
    """The server's document holds exactly the packs typed, each once."""
    serials = [line.serial for line in scanning.document(server.database, document).lines]
    assert len(serials) == len(set(serials)) == len(packs), (len(serials), len(set(serials)))
    assert sorted(serials) == sorted(p.serial for p in packs)


def one_run(template: Path, directory: Path, scans: int, chromium, profile: bool) -> dict:
    figures: dict = {"load_before": [round(x, 2) for x in os.getloadavg()]}
    for way in ("queued", "live"):
        place = directory / way
        place.mkdir()
        timer = PostTimer()
        server = LiveServer.start(template, place, timer.wrap)
        try:
            keys = label_keys.load(Settings.from_environment())
            packs = scanning.packs(server.database, keys, ITEM, BATCH, CITY, limit=scans)
            assert len(packs) == scans, f"the demo city has {len(packs)} {ITEM} packs"
            if way == "queued":
                figures[way] = queued(server, timer, packs, chromium, profile)
            else:
                figures[way] = live(server, timer, packs, chromium)
            checked(server, figures[way]["document"], packs)
        finally:
            server.stop()
    figures["load_after"] = [round(x, 2) for x in os.getloadavg()]
    return figures


def table(runs: list[dict], scans: int) -> str:
    lines = [
        "| run | load before / after | queued: online → 0 待上传 | scans/s | server per POST p50 "
        "/ p95 | browser per POST p50 | gap between POSTs p50 (first / last tenth) | "
        "live: Enter → answer p50 / p95 | scans/s (wall, with typing) | server per POST p50 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for number, run in enumerate(runs, 1):
        q, v = run["queued"], run["live"]
        lines.append(
            f"| {number} ({scans}) | {run['load_before'][0]} / {run['load_after'][0]} "
            f"| {q['online_to_empty_ms']:,} ms | {q['scans_per_s']} "
            f"| {q['server_ms']['p50']} / {q['server_ms']['p95']} ms "
            f"| {q['browser_ms']['p50']} ms "
            f"| {q['gap_ms']['p50']} ms ({q['gap_first_tenth_ms']} / {q['gap_last_tenth_ms']}) "
            f"| {v['enter_to_answer_ms']['p50']} / {v['enter_to_answer_ms']['p95']} ms "
            f"| {v['scans_per_s']} ({v['wall_scans_per_s']}) "
            f"| {v['server_ms']['p50']} ms |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=200, help="labels per run (at most 280)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="sample the page's JS in the flush")
    arguments = parser.parse_args()
    chromium = ensure_chromium()
    runs = []
    with tempfile.TemporaryDirectory(prefix="ledger-scan-queue-") as directory:
        template = build_demo(Path(directory) / "demo.db")
        for number in range(arguments.runs):
            place = Path(directory) / f"run-{number}"
            place.mkdir()
            runs.append(one_run(template, place, arguments.scans, chromium, arguments.profile))
            print(json.dumps(runs[-1], ensure_ascii=False), flush=True)
    print(f"\n{arguments.scans} scans a run, {os.cpu_count()} cores\n")
    print(table(runs, arguments.scans))


if __name__ == "__main__":
    main()
