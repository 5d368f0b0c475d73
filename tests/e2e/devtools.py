"""Chromium's DevTools protocol on every target of the browser, not only the page that
ChromeDriver drives: offline emulation set on the page alone leaves its service worker online
(the worker would fetch the page from the server and the test would prove nothing), so the
network is cut on the page and on its service worker, as DevTools' own "Offline" does.

Talks to the browser's DevTools endpoint (ChromeDriver's `debuggerAddress`) over a WebSocket
(websocket-client, which Selenium installs)."""

from __future__ import annotations

import itertools
import json
import urllib.request

import websocket
from selenium.webdriver.chrome.webdriver import WebDriver

CUT = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
RESTORED = {**CUT, "offline": False}
TARGETS = ("page", "service_worker")


class DevTools:
    def __init__(self, driver: WebDriver) -> None:
        address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        with urllib.request.urlopen(f"http://{address}/json/version", timeout=10) as answer:
            endpoint = json.load(answer)["webSocketDebuggerUrl"]
        self.socket = websocket.create_connection(endpoint, timeout=20, suppress_origin=True)
        self.ids = itertools.count(1)
        self.sessions: dict[str, str] = {}

    def send(self, method: str, params: dict | None = None, session: str = "") -> dict:
        message: dict = {"id": next(self.ids), "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        while True:  # events of attached targets come in between: skipped
            try:
                reply = json.loads(self.socket.recv())
            except websocket.WebSocketTimeoutException as error:
                raise TimeoutError(f"DevTools did not answer {method} {params}") from error
            if reply.get("id") == message["id"]:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def network(self, online: bool) -> list[str]:
        """Cut (online=False) or restore the network of every page and service worker now
        running; returns the kinds of target it was set on."""
        kinds = []
        for target in self.send("Target.getTargets")["targetInfos"]:
            if target["type"] not in TARGETS:
                continue
            session = self.sessions.get(target["targetId"])
            if session is None:
                session = self.send(
                    "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
                )["sessionId"]
                self.sessions[target["targetId"]] = session
                self.send("Network.enable", session=session)  # emulation needs the domain on
            self.send("Network.emulateNetworkConditions", RESTORED if online else CUT, session)
            kinds.append(target["type"])
        return kinds

    def close(self) -> None:
        """Detaching ends the emulation: close after the test is done with the network cut
        (or after the browser has quit)."""
        self.socket.close()
