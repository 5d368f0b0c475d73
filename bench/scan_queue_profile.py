"""Where the page's time goes while it sends its queue (`bench.scan_queue --profile`).

Two recorders, started when the network is restored and stopped when the page shows 0 待上传:

- the DevTools Profiler on the page (JavaScript sampled every 100 µs): self time per function;
- a Chromium trace (Tracing domain, categories devtools.timeline and toplevel, over the
  browser's DevTools WebSocket as tests/e2e/devtools.py talks to it): the renderer's main
  thread, every task (RunTask) and inside them self time per kind of work — script, style
  recalculation (UpdateLayoutTree), layout, paint, garbage collection. The rest of the
  window the main thread was idle: waiting for the server's answers and for IndexedDB, whose
  work is done in the browser process.
"""

from __future__ import annotations

import itertools
import json
import urllib.request
from collections import Counter

import websocket
from selenium.webdriver.chrome.webdriver import WebDriver

CATEGORIES = ["devtools.timeline", "toplevel", "v8.execute", "IndexedDB"]
TASK = "ThreadControllerImpl::RunTask"
# Trace events' names grouped into the kinds of work reported.
KINDS = {
    "script": (
        "FunctionCall",
        "EvaluateScript",
        "RunMicrotasks",
        "EventDispatch",
        "TimerFire",
        "v8.execute",
        "V8.Execute",
        "XHRReadyStateChange",
        "BlinkScheduler_PerformMicrotaskCheckpoint",
        "V8.BytecodeBudgetInterrupt",
    ),
    "style": ("UpdateLayoutTree", "ScheduleStyleRecalculation", "ParseAuthorStyleSheet"),
    "layout": ("Layout", "InvalidateLayout", "UpdateLayerTree", "IntersectionObserverController"),
    "paint": ("Paint", "PrePaint", "Layerize", "CompositeLayers", "Commit", "RasterTask"),
    "garbage collection": ("MinorGC", "MajorGC", "BlinkGC.AtomicPhase"),
}
PREFIXES = (
    ("V8.GC", "garbage collection"),
    ("IDB", "IndexedDB (the page's side)"),
    ("Receive mojo", "messages from other processes (network, IndexedDB, DevTools)"),
    ("SimpleWatcher", "messages from other processes (network, IndexedDB, DevTools)"),
    ("Closed mojo", "messages from other processes (network, IndexedDB, DevTools)"),
)


class Profiles:
    """The page's JavaScript profiler and a trace of the browser, on while started."""

    def __init__(self, driver: WebDriver) -> None:
        self.driver = driver
        address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        with urllib.request.urlopen(f"http://{address}/json/version", timeout=10) as answer:
            endpoint = json.load(answer)["webSocketDebuggerUrl"]
        self.socket = websocket.create_connection(endpoint, timeout=60, suppress_origin=True)
        self.ids = itertools.count(1)

    def command(self, method: str, params: dict | None = None) -> list[dict]:
        """Sends a command to the browser; returns the events that came before its reply."""
        number = next(self.ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params or {}}))
        events: list[dict] = []
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return events
            events.append(message)

    def start(self) -> None:
        self.driver.execute_cdp_cmd("Profiler.enable", {})
        self.driver.execute_cdp_cmd("Profiler.setSamplingInterval", {"interval": 100})
        self.command(
            "Tracing.start",
            {"traceConfig": {"includedCategories": CATEGORIES}, "transferMode": "ReportEvents"},
        )
        self.driver.execute_cdp_cmd("Profiler.start", {})

    def stop(self) -> dict:
        functions = functions_by_self_time(self.driver.execute_cdp_cmd("Profiler.stop", {}))
        events = self.command("Tracing.end")
        while not any(e.get("method") == "Tracing.tracingComplete" for e in events):
            events.append(json.loads(self.socket.recv()))
        self.socket.close()
        trace = [
            event
            for message in events
            if message.get("method") == "Tracing.dataCollected"
            for event in message["params"]["value"]
        ]
        return {"functions_ms": functions, "main_thread_ms": main_thread(trace)}


def functions_by_self_time(answer: dict, count: int = 12) -> list[tuple[str, float]]:
    profile = answer["profile"]
    names = {}
    for node in profile["nodes"]:
        frame = node["callFrame"]
        where = frame["url"].rsplit("/", 1)[-1]
        name = frame["functionName"] or "(anonymous)"
        names[node["id"]] = f"{name} {where}:{frame['lineNumber'] + 1}" if where else name
    self_us: Counter[str] = Counter()
    for node_id, delta in zip(profile["samples"], profile["timeDeltas"], strict=True):
        self_us[names[node_id]] += delta
    return [(name, round(us / 1000, 1)) for name, us in self_us.most_common(count)]


def kind_by_prefix(name: str) -> str:
    if name == TASK:
        return "task (not in the kinds below)"
    for prefix, kind in PREFIXES:
        if name.startswith(prefix):
            return kind
    return "other"


def main_thread(trace: list[dict]) -> dict:
    """The page's renderer main thread: busy (its tasks) and self time per kind of work."""
    threads = {
        (e["pid"], e["tid"])
        for e in trace
        if e.get("ph") == "M"
        and e.get("name") == "thread_name"
        and e["args"].get("name") == "CrRendererMain"
    }
    spans = [e for e in trace if e.get("ph") == "X" and (e["pid"], e["tid"]) in threads]
    busiest = Counter((e["pid"], e["tid"]) for e in spans if e["name"] == TASK)
    if not busiest:
        return {}
    thread = busiest.most_common(1)[0][0]  # the page's (other renderers: the worker's, idle)
    spans = sorted(
        (e for e in spans if (e["pid"], e["tid"]) == thread), key=lambda e: (e["ts"], -e["dur"])
    )
    kind_of = {name: kind for kind, names in KINDS.items() for name in names}
    self_us: Counter[str] = Counter()
    stack: list[tuple[float, str]] = []  # (end, kind) of the enclosing events
    for event in spans:
        while stack and stack[-1][0] <= event["ts"]:
            stack.pop()
        kind = kind_of.get(event["name"]) or kind_by_prefix(event["name"])
        self_us[kind] += event["dur"]
        if stack:
            self_us[stack[-1][1]] -= event["dur"]
        stack.append((event["ts"] + event["dur"], kind))
    tasks = [e for e in spans if e["name"] == TASK]
    window_us = max(e["ts"] + e["dur"] for e in spans) - min(e["ts"] for e in spans)
    figures = {kind: round(us / 1000) for kind, us in self_us.most_common()}
    figures["busy (all tasks)"] = round(sum(e["dur"] for e in tasks) / 1000)
    figures["window"] = round(window_us / 1000)
    return figures
