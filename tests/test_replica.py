"""Reads from a PostgreSQL streaming replica (issue 18, aim 7), against a real hot standby.

The test makes its own small PostgreSQL cluster on this machine — a primary (initdb, wal_level
replica, replication allowed from loopback) and a standby copied from it with pg_basebackup
and started with `pg_ctl` on another port — so it changes nothing of the machine's own server.
The app posts on the primary and reads reports, balances and verification on the standby once
it has replayed the write (X-Ledger-Min-Sequence), and each answer says where it read and the
sequence it reflects. Needs PostgreSQL's server programs (the Debian package the machine's
server comes from); fails when LEDGER_REQUIRE_PG=1 and they are missing, skips otherwise.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from api.app import create_app
from ledger.db.engine import make_engine
from ledger.db.replica import ReplicaDatabase
from ledger.db.unit_of_work import Database
from ledger.rules import Code, LedgerError
from ledger.services import lookups
from ledger.services.balances import BalanceQuery, balances
from tests.api.conftest import fill_template, headers
from tests.conftest import PG_URL, REQUIRE_PG, TODAY

V1 = "/api/v1"


def _missing(why: str):
    if REQUIRE_PG:
        pytest.fail(f"a PostgreSQL standby is required (LEDGER_REQUIRE_PG=1): {why}")
    pytest.skip(why)


def _bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"))
    if not found:
        _missing("PostgreSQL's server programs (initdb, pg_ctl, pg_basebackup) are not installed")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """A primary and its standby in a folder of their own, run as the `postgres` user when the
    tests run as root (PostgreSQL refuses to run as root)."""

    def __init__(self) -> None:
        self.bin = _bin()
        self.root = Path(tempfile.mkdtemp(prefix="ledger-replica-"))
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self.primary_port, self.standby_port = _free_port(), _free_port()

    def run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        done = subprocess.run(
            [*prefix, *command], capture_output=True, text=True, timeout=120, cwd=self.root
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)}: {done.stdout}{done.stderr}")

    def start(self) -> None:
        primary, standby = self.root / "primary", self.root / "standby"
        self.run(str(self.bin / "initdb"), "-D", str(primary), "-U", "postgres", "-A", "trust")
        settings = (
            f"port = {self.primary_port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.root}'\nwal_level = replica\n"
            "max_wal_senders = 4\nfsync = off\nhot_standby = on\n"
        )
        self.run("sh", "-c", f'printf "%s" "{settings}" >> {primary}/postgresql.conf')
        self.run(
            "sh", "-c", f"echo 'host replication all 127.0.0.1/32 trust' >> {primary}/pg_hba.conf"
        )
        self.run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(primary),
            "-l",
            str(self.root / "p.log"),
            "-w",
            "start",
        )
        self.run(
            str(self.bin / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.primary_port),
            "-U",
            "postgres",
            "-D",
            str(standby),
            "-R",
            "-X",
            "stream",
        )
        self.run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(standby),
            "-l",
            str(self.root / "s.log"),
            "-o",
            f"-p {self.standby_port}",
            "-w",
            "start",
        )

    def url(self, port: int) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def stop(self) -> None:
        for name in ("standby", "primary"):
            if (self.root / name / "postmaster.pid").exists():
                self.run(
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.root / name),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                )
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster():
    made = Cluster()
    try:
        made.start()
    except (RuntimeError, subprocess.TimeoutExpired, FileNotFoundError) as error:
        made.stop()
        _missing(f"could not start a primary and a standby: {error}")
    yield made
    made.stop()


@pytest.fixture(scope="module")
def ledger(cluster):
    primary = Database(make_engine(cluster.url(cluster.primary_port)))
    fill_template(primary.engine)
    replica = ReplicaDatabase.from_url(cluster.url(cluster.standby_port))
    app = create_app(primary, clock=lambda: TODAY, replica=replica)
    with TestClient(app) as client:
        yield client, primary, replica
    primary.dispose()
    replica.dispose()


def _issue(client, quantity: int, key: str) -> int:
    answer = client.post(
        f"{V1}/transactions/issues",
        json={
            "source_code": "510100",
            "destination_code": "510121",
            "lines": [{"item_code": "NH2014", "quantity": quantity}],
        },
        headers=headers("clerk-city", key),
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["sequence"])


def _city_nh(database: Database) -> int:
    rows = balances(database, BalanceQuery(location_code="510100", item_code="NH2014"))
    return sum(row.on_hand for row in rows)


def test_a_write_on_the_primary_is_read_on_the_replica_once_replayed(ledger):
    client, primary, replica = ledger
    sequence = _issue(client, 500, "replica-1")
    answer = client.get(
        f"{V1}/balances",
        params={"location": "510100", "item": "NH2014"},
        headers={**headers("clerk-city"), "X-Ledger-Min-Sequence": str(sequence)},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-ledger-read-from"] == "replica"
    assert int(answer.headers["x-ledger-sequence"]) >= sequence
    on_hand = sum(row["on_hand"] for row in answer.json()["items"])
    assert on_hand == _city_nh(primary) == _city_nh(replica)

    report = client.get(
        f"{V1}/reports/stock-on-hand",
        params={"under": "510100"},
        headers={**headers("admin"), "X-Ledger-Min-Sequence": str(sequence)},
    )
    assert report.status_code == 200, report.text
    assert report.headers["x-ledger-read-from"] == "replica"
    assert int(report.headers["x-ledger-sequence"]) >= sequence


def test_verification_runs_on_the_replica_and_matches_the_primary(ledger):
    client, primary, _ = ledger
    sequence = _issue(client, 1000, "replica-2")
    answer = client.get(
        f"{V1}/audit/verification",
        headers={**headers("auditor-root"), "X-Ledger-Min-Sequence": str(sequence)},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-ledger-read-from"] == "replica"
    report = answer.json()
    assert report["ok"] is True and report["findings"] == []
    assert lookups.chain_head(primary)[0] >= sequence


def test_the_replica_takes_no_writes(ledger):
    client, _, replica = ledger
    with pytest.raises(LedgerError) as refused:
        replica.write(lambda store: None)
    assert refused.value.code == Code.read_only_replica
    # and the standby itself refuses one (hot standby: read-only transactions)
    with replica.engine.connect() as connection, pytest.raises(Exception, match="read-only"):
        connection.execute(text("CREATE TABLE nothing (id int)"))
    # the app's writes go to the primary all the same
    assert _issue(client, 500, "replica-3") > 0


def test_a_replica_that_is_behind_or_down_leaves_the_read_to_the_primary(ledger, cluster):
    client, primary, _ = ledger
    far_ahead = lookups.chain_head(primary)[0] + 1_000_000  # never replayed
    answer = client.get(
        f"{V1}/balances",
        params={"location": "510100", "item": "NH2014"},
        headers={**headers("clerk-city"), "X-Ledger-Min-Sequence": str(far_ahead)},
    )
    assert answer.status_code == 200 and answer.headers["x-ledger-read-from"] == "primary"

    down = ReplicaDatabase.from_url(f"{PG_URL.rsplit('@', 1)[0]}@127.0.0.1:{_free_port()}/none")
    app = create_app(primary, clock=lambda: TODAY, replica=down)
    with TestClient(app) as other:
        answer = other.get(
            f"{V1}/balances", params={"location": "510100"}, headers=headers("clerk-city")
        )
    assert answer.status_code == 200 and answer.headers["x-ledger-read-from"] == "primary"
