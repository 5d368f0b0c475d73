"""What the metrics and the request log cost: a read route under wrk, with and without them.

    python -m bench.metrics_overhead --seconds 10 --rounds 3 --connections 4
    python -m bench.metrics_overhead --micro 20000   # the wrapper alone, in-process

Builds the load benchmark's stocked city (bench.api_load), then serves it with uvicorn (one
worker, no access log, as `ledger serve` does) twice over: `observed` is the app as
`create_app` makes it (request ids, the JSON request log written to a file, /metrics counting
every request); `bare` is the same app with that wrapper taken off (`Observed.app`). wrk
(Debian's `wrk`) loads one route at a time from its own process, for `--rounds` rounds, bare
first in one round and observed first in the next, so that a change of the machine's load falls
on both. Routes:

- health: GET /health (one read of the chain head);
- item: GET /api/v1/items/NH2014 with a bearer token (authentication from its cache, the item
  from the catalog): the service's cheapest authenticated read.

Prints, per route and variant, the requests/s of each round and their median, the ratio
observed/bare of the medians, and the server process's CPU time per request (user + system, all
its threads, from /proc: less moved by the machine's other load than requests/s). Checks that
every answer was 200, and that the observed server's /metrics counted at least as many requests
as wrk reported.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.api_load import LOAD_KEYS, TOKEN, free_port, prepare

METRICS_TOKEN = "bench-metrics-token-0123456789"
ROUTES = {
    "health": ("/health", None, "/health"),
    "item": ("/api/v1/items/NH2014", TOKEN, "/api/v1/items/{code}"),
}
WRK_SCRIPT = r"""
local path, token = "%(path)s", "%(token)s"
statuses = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function request()
  local headers = {}
  if token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", path, headers)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(merged) do
    table.insert(parts, string.format('"%%d":%%d', status, count))
  end
  io.write(string.format('WRK {"requests":%%d,"seconds":%%.3f,"p50_ms":%%.3f,"p99_ms":%%.3f,' ..
    '"statuses":{%%s}}\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, table.concat(parts, ",")))
end
"""


def observed_app():
    """The app as `ledger serve` runs it."""
    from api.app import create_app

    return create_app()


def bare_app():
    """The same app without request ids, the request log and the metrics."""
    from api.request_log import Observed

    app = observed_app()
    assert isinstance(app.asgi_handler, Observed)
    app.asgi_handler = app.asgi_handler.app
    return app


def unlogged_app():
    """The app with request ids and metrics but no request log line."""
    import api.request_log

    api.request_log.RequestLines.add = lambda *arguments, **keywords: None
    return observed_app()


def serve(variant: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            f"bench.metrics_overhead:{variant}_app",
            "--factory",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
    )
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError(f"the {variant} server did not start (see {log})")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and all its threads so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(script: Path, base: str, seconds: float, connections: int) -> dict:
    done = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{round(seconds)}s", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("WRK "))
    figures = json.loads(line[4:])
    figures["requests_per_second"] = round(figures["requests"] / figures["seconds"], 1)
    return figures


def counted(base: str, route: str) -> float:
    request = urllib.request.Request(
        f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        text = answer.read().decode()
    pattern = rf'^ledger_http_requests_total\{{method="GET",route="{re.escape(route)}",status="200"\}} (\S+)$'
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def measure(
    route: str, seconds: float, rounds: int, connections: int, folder: Path, variants: list[str]
) -> dict:
    path, token, template = ROUTES[route]
    script = folder / f"{route}.lua"
    script.write_text(WRK_SCRIPT % {"path": path, "token": token or ""})
    env = dict(os.environ, LEDGER_DATABASE_URL=f"sqlite:///{folder / 'load.db'}")
    env.setdefault("LEDGER_LABEL_KEYS", LOAD_KEYS)
    env["LEDGER_METRICS_TOKEN"] = METRICS_TOKEN
    runs: dict[str, list[dict]] = {variant: [] for variant in variants}
    for round_number in range(rounds):  # each variant first in turn
        shift = round_number % len(variants)
        for variant in variants[shift:] + variants[:shift]:
            runs[variant].append(
                run_once(variant, script, template, seconds, connections, env, folder)
            )
    result: dict = {"route": f"GET {path}"}
    for variant, figures in runs.items():
        result[variant] = {
            "requests_per_second": [r["requests_per_second"] for r in figures],
            "median": statistics.median(r["requests_per_second"] for r in figures),
            "p50_ms": statistics.median(r["p50_ms"] for r in figures),
            "cpu_us_per_request": [r["cpu_us_per_request"] for r in figures],
            "cpu_median": statistics.median(r["cpu_us_per_request"] for r in figures),
        }
    bare = result["bare"]
    for variant in variants[1:]:
        result[variant]["ratio_to_bare"] = round(result[variant]["median"] / bare["median"], 3)
        result[variant]["cpu_ratio_to_bare"] = round(
            result[variant]["cpu_median"] / bare["cpu_median"], 3
        )
    return result


def run_once(
    variant: str,
    script: Path,
    template: str,
    seconds: float,
    connections: int,
    env: dict[str, str],
    folder: Path,
) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve(variant, port, env, folder / f"{variant}.log")
    try:
        wrk(script, base, 1, connections)  # warm-up
        cpu_before = cpu_seconds(server.pid)
        result = wrk(script, base, seconds, connections)
        cpu = cpu_seconds(server.pid) - cpu_before
        result["cpu_us_per_request"] = round(cpu / result["requests"] * 1e6, 1)
        assert set(result["statuses"]) == {"200"}, result
        if variant != "bare":
            result["counted"] = counted(base, template)
            assert result["counted"] >= result["requests"], result
        return result
    finally:
        server.terminate()
        server.wait(timeout=30)


def wrapper_cost(requests: int, folder: Path) -> dict:
    """The wrapper's own time per request, in this process: `Observed` around an ASGI app that
    answers at once, against that app alone, alternating, the request log going to a file."""
    import asyncio
    import logging

    from api.request_log import Observed, install_logging

    install_logging()
    log_file = (folder / "micro.log").open("w")
    real_stderr, sys.stderr = sys.stderr, log_file

    async def answer(scope, receive, send) -> None:
        scope["path_template"] = "/api/v1/items/{code}"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def nothing(message) -> None:
        return None

    async def receive() -> dict:
        return {"type": "http.request"}

    async def timed(app) -> float:
        started = time.perf_counter()
        for _ in range(requests):
            scope = {"type": "http", "method": "GET", "path": "/api/v1/items/NH2014"}
            scope["headers"] = [(b"host", b"ledger"), (b"authorization", b"Bearer x")]
            await app(scope, receive, nothing)
        return (time.perf_counter() - started) / requests * 1e6

    async def alternate() -> dict[str, list[float]]:
        times: dict[str, list[float]] = {"bare": [], "observed": []}
        for _ in range(5):
            times["bare"].append(await timed(answer))
            times["observed"].append(await timed(Observed(answer, None)))
        return times

    try:
        times = asyncio.run(alternate())
    finally:
        sys.stderr = real_stderr
        log_file.close()
        logging.getLogger("ledger").handlers.clear()
    bare, observed = statistics.median(times["bare"]), statistics.median(times["observed"])
    return {
        "wrapper": "Observed around an app that answers at once",
        "bare_us_per_request": round(bare, 1),
        "observed_us_per_request": round(observed, 1),
        "wrapper_us_per_request": round(observed - bare, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--routes", default="health,item")
    parser.add_argument("--variants", default="bare,observed", help="bare first; also: unlogged")
    parser.add_argument("--micro", type=int, default=0, help="only the wrapper's cost, N requests")
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ledger-metrics-overhead-"))
    if arguments.micro:
        print(json.dumps(wrapper_cost(arguments.micro, folder)))
        return
    prepare(f"sqlite:///{folder / 'load.db'}")
    for route in arguments.routes.split(","):
        variants = arguments.variants.split(",")
        result = measure(
            route, arguments.seconds, arguments.rounds, arguments.connections, folder, variants
        )
        print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
