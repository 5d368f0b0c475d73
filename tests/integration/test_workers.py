"""`ledger serve --workers 2` on a copy of the demo, SQLite and PostgreSQL: concurrent posts
through both worker processes — the city issuing to its districts, the same Idempotency-Key
sent at once to both processes, districts moving stock to each other in a cycle (two lines in
either order), clients racing for the last units — then `verify` finds nothing and the stock
moved adds up to what was answered.

Each worker process has its own group-commit writer, reference-data cache and token cache;
what is posted is ordered by the database (PostgreSQL: the chain head, taken first; SQLite: its
write lock), never by memory shared between processes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ledger.db import balance_queries
from ledger.db.unit_of_work import Database
from ledger.services.audit import verify_ledger
from ledger.services.demo import COUNTIES, demo_token, load_demo
from ledger.services.users import add_user
from tests.conftest import PG_URL, PostgresSchema

ROOT = Path(__file__).resolve().parents[2]
CITY = "510100"
CYCLE = [
    code for code, _, _ in COUNTIES[:6]
]  # district i sends to district i + 1, the last to the first
CLERKS = {code: f"lgr_workers-clerk-{code}" for code in CYCLE}
LAST_UNITS = CYCLE[0]  # where clients race for the last units of 叠页
THREADS = 8


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def demo_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'demo.db'}"
        schema = None
    else:
        schema = PostgresSchema()
        url = f"{PG_URL}?options=-csearch_path%3D{schema.name}"
    database = Database.from_url(url)
    try:
        database.upgrade()
        load_demo(database)
        for code, token in CLERKS.items():
            add_user(database, f"{code}仓库保管员", "clerk", code, token)
    finally:
        database.dispose()
    try:
        yield url
    finally:
        if schema is not None:
            schema.drop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(demo_url) -> Iterator[str]:
    """`ledger serve --workers 2` on the demo; its base URL."""
    port = free_port()
    env = dict(os.environ, LEDGER_DATABASE_URL=demo_url, PYTHONPATH=str(ROOT))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # serve makes one for its workers
    process = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli", "serve", "--workers", "2", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # both workers serving (/metrics adds up the processes' figures)
            try:
                metrics = urllib.request.urlopen(f"{base}/metrics", timeout=1).read()
                if b"\nledger_workers 2.0" in metrics:
                    break
            except OSError:
                assert process.poll() is None, "the server stopped"
            time.sleep(0.1)
        else:
            raise AssertionError("two workers did not start")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def on_hand(url: str) -> dict[tuple[str, str], int]:
    """Every location's stock per item, virtual places included."""
    database = Database.from_url(url)
    try:
        found: Counter = Counter()
        with database.read() as connection:
            for line in balance_queries.balances(connection, include_virtual=True):
                found[(line.location_code, line.item_code)] += line.on_hand
        return dict(found)
    finally:
        database.dispose()


def issue(source: str, destination: str, lines: list[tuple[str, int]]) -> dict:
    return {
        "source_code": source,
        "destination_code": destination,
        "lines": [
            {"item_code": item, "quantity": quantity, "batch_number": "2014-01"}
            for item, quantity in lines
        ],
    }


def send(base: str, calls: list[tuple[str, dict, str]]) -> list[httpx.Response]:
    """Every call (token, body, key) from THREADS clients at once; the answers in call order."""
    answers: list = [None] * len(calls)
    barrier = threading.Barrier(THREADS)

    def client(index: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            barrier.wait()
            for at in range(index, len(calls), THREADS):
                token, body, key = calls[at]
                headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
                answers[at] = http.post("/api/v1/transactions/issues", json=body, headers=headers)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return answers


def test_two_workers_post_concurrently_exactly_once_and_everything_adds_up(demo_url, server):
    before = on_hand(demo_url)
    city = demo_token("clerk", CITY)
    calls = []
    for n in range(48):  # the city to its districts, 1 册 of 文摘 each
        calls.append((city, issue(CITY, CYCLE[n % len(CYCLE)], [("WZ2014", 1)]), f"city-{n}"))
    for n in range(8):  # one key sent 3 times, at once: posted once
        calls += [(city, issue(CITY, CYCLE[1], [("WZ2014", 2)]), f"twice-{n}")] * 3
    for n in range(60):  # the cycle, the two lines in either order
        source, destination = CYCLE[n % len(CYCLE)], CYCLE[(n + 1) % len(CYCLE)]
        lines = [("NH2014", 1), ("DY2014", 1)][:: 1 if n % 2 else -1]
        calls.append((CLERKS[source], issue(source, destination, lines), f"cycle-{n}"))
    answers = send(server, calls)
    assert [a.status_code for a in answers] == [201] * len(calls), [
        a.text for a in answers if a.status_code != 201
    ]
    numbers = [a.json()["number"] for a in answers]
    assert len(set(numbers)) == 48 + 8 + 60  # each duplicate answered with its first's voucher
    for n in range(8):
        at = 48 + 3 * n
        assert numbers[at] == numbers[at + 1] == numbers[at + 2]

    after = on_hand(demo_url)
    report = verify(demo_url)
    assert report.ok, report.findings
    moved = {key: after.get(key, 0) - before.get(key, 0) for key in set(before) | set(after)}
    assert moved[(CITY, "WZ2014")] == -(48 + 2 * 8)
    assert moved[("in-transit", "WZ2014")] == 48 + 2 * 8
    for item in ("NH2014", "DY2014"):  # in the cycle each district sent 10 and received none
        assert moved[("in-transit", item)] == 60
        assert all(moved[(code, item)] == -10 for code in CYCLE)
    for item in {item for _, item in after}:  # nothing created or lost anywhere
        assert sum(v for (_, i), v in moved.items() if i == item) == 0


def test_two_workers_racing_for_the_last_units_never_take_them_twice(demo_url, server):
    stock = on_hand(demo_url)[(LAST_UNITS, "DY2014")]
    token = CLERKS[LAST_UNITS]
    destination = CYCLE[1]
    # Take all but 5 in one post, then 16 clients want 2 each: exactly two get them.
    first = send(server, [(token, issue(LAST_UNITS, destination, [("DY2014", stock - 5)]), "most")])
    assert first[0].status_code == 201, first[0].text
    racing = [
        (token, issue(LAST_UNITS, destination, [("DY2014", 2)]), f"last-{n}") for n in range(16)
    ]
    answers = send(server, racing)
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 2, 422: 14}, [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 422} <= {
        "exceeds_on_hand",
        "exceeds_available",
    }
    assert on_hand(demo_url)[(LAST_UNITS, "DY2014")] == 1
    report = verify(demo_url)
    assert report.ok, report.findings


def verify(url: str):
    database = Database.from_url(url)
    try:
        return verify_ledger(database)
    finally:
        database.dispose()
