"""HTTP load against the real server on loopback, from a separate load process.

    python -m bench.api_load --engine sqlite --seconds 10 --connections 16

Starts `ledger serve` (uvicorn, one worker) on a fresh stocked database, then a load process
that keeps `connections` requests in flight for `seconds`: posting issues (city → one of 100
counties, 2 postings each), or reading a balance. Prints requests/s and latency percentiles, and
checks the result: every post answered 201 and the city's stock fell by exactly what was posted.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TOKEN = "lgr_bench-clerk-510100"
LOAD_KEYS = "B1:bench-label-key-0123456789"
COUNTIES = 100


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(url: str) -> None:
    """A city with 100 counties, 10^9 张 of 年画 and a clerk at the city."""
    from bench.conftest import stocked_ledger
    from ledger.db.engine import make_engine
    from ledger.services.users import add_user

    engine = make_engine(url)
    ledger = stocked_ledger(engine)
    add_user(ledger.database, "压测保管员", "clerk", "510100", TOKEN)
    engine.dispose()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def load(base: str, kind: str, seconds: float, connections: int) -> dict:
    import httpx

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    posted = 0
    headers = {"Authorization": f"Bearer {TOKEN}"}
    deadline = time.perf_counter() + seconds

    async def worker(index: int, client) -> None:
        nonlocal posted
        sent = 0
        document = None
        if kind == "scan":
            opened = await client.post(
                f"{base}/api/v1/scan-documents",
                headers=headers,
                json={"purpose": "issue", "location_code": "510100", "destination_code": "C001"},
            )
            document = opened.json()["id"]
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            if kind == "scan":
                response = await client.post(
                    f"{base}/api/v1/scans",
                    headers=headers,
                    json={"document": document, "payload": label(1 + index + sent * connections)},
                )
                if response.status_code == 200 and response.json()["status"] == "scanned":
                    posted += 1
            elif kind == "post":
                quantity = 1 + (sent % 5)
                response = await client.post(
                    f"{base}/api/v1/transactions/issues",
                    headers=headers,
                    json={
                        "source_code": "510100",
                        "destination_code": f"C{(index * 7 + sent) % COUNTIES:03d}",
                        "lines": [
                            {"item_code": "NH2014", "quantity": quantity, "batch_number": "2014-01"}
                        ],
                    },
                )
                if response.status_code == 201:
                    posted += quantity
            else:
                response = await client.get(
                    f"{base}/api/v1/balances",
                    headers=headers,
                    params={"location": "510100", "item": "NH2014"},
                )
            latencies.append(time.perf_counter() - started)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            sent += 1

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker(i, client) for i in range(connections)))
        elapsed = time.perf_counter() - began
    return {
        "kind": kind,
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "latency_ms_p50": round(statistics.median(latencies) * 1000, 2),
        "latency_ms_p99": round(percentile(latencies, 0.99) * 1000, 2),
        "statuses": statuses,
        "posted_base_units": posted,
    }


@functools.cache
def _keys():
    from ledger.services import label_keys
    from ledger.settings import Settings

    return label_keys.load(Settings.from_environment())


def label(serial: int) -> str:
    """The payload of pack `serial` of the stocked 年画 batch (keys from LEDGER_LABEL_KEYS)."""
    from ledger import labels

    return labels.encode(labels.PackLabel("NH2014", "2014-01", serial, 500), _keys())


def scanned_packs(base: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/v1/scan-documents?status=open&limit=200",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return sum(document["packs"] for document in json.loads(response.read())["items"])


def city_on_hand(base: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/v1/balances?location=510100&item=NH2014",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return sum(row["on_hand"] for row in json.loads(response.read())["items"])


def run(url: str, kind: str, seconds: float, connections: int) -> dict:
    """Prepare, serve, load from a separate process, check; return the figures."""
    prepare(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, LEDGER_DATABASE_URL=url)
    env.setdefault("LEDGER_LABEL_KEYS", LOAD_KEYS)
    server = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        before = city_on_hand(base)
        client = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.api_load",
                "--client",
                base,
                "--kind",
                kind,
                "--seconds",
                str(seconds),
                "--connections",
                str(connections),
            ],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        figures = json.loads(client.stdout)
        figures["city_before"] = before
        figures["city_after"] = city_on_hand(base)
        if kind == "scan":
            figures["packs_in_documents"] = scanned_packs(base)
        return figures
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--kind", choices=["post", "read", "scan"], default="post")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.client:
        print(
            json.dumps(
                asyncio.run(
                    load(arguments.client, arguments.kind, arguments.seconds, arguments.connections)
                )
            )
        )
        return
    if arguments.engine == "sqlite":
        directory = tempfile.mkdtemp(prefix="ledger-load-")
        url = f"sqlite:///{Path(directory) / 'load.db'}"
        print(
            json.dumps(
                run(url, arguments.kind, arguments.seconds, arguments.connections),
                ensure_ascii=False,
            )
        )
    else:
        from tests.conftest import PG_URL, PostgresSchema

        schema = PostgresSchema()
        try:
            url = f"{PG_URL}?options=-csearch_path%3D{schema.name}"
            print(
                json.dumps(
                    run(url, arguments.kind, arguments.seconds, arguments.connections),
                    ensure_ascii=False,
                )
            )
        finally:
            schema.drop()


if __name__ == "__main__":
    main()
