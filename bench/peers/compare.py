"""Side by side with hledger, ledger-cli and Beancount on the same ledger.

    python -m bench.peers.compare --sizes 100000 1000000

For each size: build the synthetic city with the bulk loader (SQLite), export it as an hledger /
ledger-cli journal and a Beancount file, then time, on this machine:

- ours: the balance report as the ledger serves it (the stored balances, kept in the same
  database transaction as the postings), and every account's balance from the postings, two
  ways — summing every posting (one
  grouped SQL query), and reading each account's latest running balance (one index lookup per
  account; the design keeps a running balance on every posting, and `verify` proves it equals
  the sum) — and `verify` (all invariants, from genesis);
- the in-memory floor: a numpy grouped sum (`bincount`) over the same postings already in memory;
- `hledger balance`, `ledger balance` and `bean-check` on the exported files.

Every peer's balances must equal ours (checked, not assumed). Prints a table with the ratios and
writes the figures as JSON. Installs the peers itself when missing: Debian's `hledger` and
`ledger` (apt-get, as root) and PyPI's `beancount` (into this Python). Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.peers import export
from ledger.db import balance_queries, journal_queries
from ledger.db.unit_of_work import Database
from ledger.services.audit import verify_ledger
from scripts.synthetic_city import load_bulk

LEDGER_FORMAT = "%(account)\\t%(display_total)\\n"


def install_peers() -> None:
    missing = [name for name in ("hledger", "ledger") if shutil.which(name) is None]
    if missing:
        subprocess.run(
            ["apt-get", "install", "-y", "-q", *missing],
            check=True,
            env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
            stdout=sys.stderr,  # stdout is the table bench.run_all writes up
        )
    try:
        import beancount  # noqa: F401
    except ImportError:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "beancount>=3"],
            check=True,
            stdout=sys.stderr,
        )


def best_of(runs: int, work) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def run_tool(arguments: list[str]) -> str:
    done = subprocess.run(arguments, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{arguments[0]} failed: {done.stderr[-2000:]}")
    return done.stdout


def our_balances(database: Database, how=balance_queries.balances_from_postings) -> dict:
    """Every account's balance from the postings, keyed like the peers' output: by summing
    every posting (`balances_from_postings`), or from each account's latest running balance
    (`balances_from_running`)."""
    names: dict = {}
    with database.read() as connection:
        rows = how(connection)
    out = {}
    for location, item, batch, quantity in rows:
        if quantity:
            out[(export.account_name(location), export.commodity_name(item, batch, names))] = (
                quantity
            )
    return out


def measure(size: int, directory: Path, runs: int) -> dict:
    import numpy as np

    path = directory / f"city-{size}.db"
    database = Database.from_url(f"sqlite:///{path}")
    database.upgrade()
    started = time.perf_counter()
    load_bulk(database, size)
    built = time.perf_counter() - started
    with database.read() as connection:
        transactions, postings = journal_queries.counts(connection)
        codes = [row[0] for row in connection.exec_driver_sql("SELECT code FROM locations")]
        names: dict = {}
        journal = directory / f"city-{size}.journal"
        bean = directory / f"city-{size}.beancount"
        with journal.open("w", encoding="utf-8") as handle:
            handle.writelines(
                export.journal(journal_queries.stored_transactions(connection), names)
            )
        with bean.open("w", encoding="utf-8") as handle:
            handle.writelines(
                export.beancount(journal_queries.stored_transactions(connection), codes, names)
            )
        columns = np.array(
            connection.exec_driver_sql(
                "SELECT location_id, batch_id, quantity FROM postings"
            ).all(),
            dtype=np.int64,
        )
    # The floor's input: each posting's account as a dense index, and its quantity, in memory.
    _, accounts = np.unique(columns[:, 0] * (1 << 32) + columns[:, 1], return_inverse=True)
    quantities = columns[:, 2].astype(np.float64)

    figures: dict = {"postings": postings, "transactions": transactions, "build_s": built}
    figures["ours_balance_s"], ours = best_of(runs, lambda: our_balances(database))
    figures["ours_running_s"], running = best_of(
        runs, lambda: our_balances(database, balance_queries.balances_from_running)
    )
    assert running == ours

    figures["ours_stored_s"], stored = best_of(
        runs, lambda: our_balances(database, balance_queries.stored_balance_totals)
    )
    assert stored == ours
    figures["ours_verify_s"], report = best_of(1, lambda: verify_ledger(database))
    assert report.ok, report.findings[:3]
    figures["numpy_floor_s"], floor = best_of(
        max(runs, 5), lambda: np.bincount(accounts, weights=quantities)
    )
    assert int(np.abs(floor).sum()) == sum(abs(v) for v in ours.values())

    figures["hledger_s"], text = best_of(
        runs,
        lambda: run_tool(
            [
                "hledger",
                "-f",
                str(journal),
                "bal",
                "--flat",
                "--no-total",
                "-O",
                "csv",
                "--layout=bare",
            ]
        ),
    )
    assert export.parse_hledger_csv(text) == ours, "hledger's balances differ from ours"
    figures["ledger_s"], text = best_of(
        runs,
        lambda: run_tool(
            [
                "ledger",
                "-f",
                str(journal),
                "bal",
                "--flat",
                "--no-total",
                "--balance-format",
                LEDGER_FORMAT.replace("\\t", "\t").replace("\\n", "\n"),
            ]
        ),
    )
    assert export.parse_ledger_balance(text) == ours, "ledger-cli's balances differ from ours"
    bean_check = shutil.which("bean-check") or str(Path(sys.executable).parent / "bean-check")
    figures["bean_check_s"], _ = best_of(1, lambda: run_tool([bean_check, str(bean)]))
    assert beancount_balances(bean) == ours, "Beancount's balances differ from ours"
    database.dispose()
    return figures


def beancount_balances(path: Path) -> dict[tuple[str, str], int]:
    from beancount import loader
    from beancount.core import realization

    entries, errors, _ = loader.load_file(str(path))
    assert not errors, errors[:3]
    out = {}
    for account in realization.iter_children(realization.realize(entries)):
        for position in account.balance:
            if position.units.number:
                out[(account.account, position.units.currency)] = int(position.units.number)
    return out


def table(results: dict[int, dict]) -> str:
    lines = [
        "| postings | ours: stored balances | ours: running balances | ours: sum of every "
        "posting | ours: verify | numpy floor | hledger | ledger-cli | bean-check | "
        "ledger-cli ÷ ours (stored / running / sum) | ours ÷ floor (stored / running / sum) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f in results.values():
        lines.append(
            f"| {f['postings']:,} | {f['ours_stored_s'] * 1000:.0f} ms | "
            f"{f['ours_running_s'] * 1000:.0f} ms | "
            f"{f['ours_balance_s'] * 1000:.0f} ms | {f['ours_verify_s']:.2f} s | "
            f"{f['numpy_floor_s'] * 1000:.2f} ms | {f['hledger_s']:.2f} s | {f['ledger_s']:.2f} s | "
            f"{f['bean_check_s']:.1f} s | {f['ledger_s'] / f['ours_stored_s']:.0f}× / "
            f"{f['ledger_s'] / f['ours_running_s']:.0f}× / "
            f"{f['ledger_s'] / f['ours_balance_s']:.1f}× | "
            f"{f['ours_stored_s'] / f['numpy_floor_s']:.0f}× / "
            f"{f['ours_running_s'] / f['numpy_floor_s']:.0f}× / "
            f"{f['ours_balance_s'] / f['numpy_floor_s']:.0f}× |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", help="write the figures here")
    arguments = parser.parse_args()
    install_peers()
    results = {}
    with tempfile.TemporaryDirectory(prefix="ledger-peers-") as directory:
        for size in arguments.sizes:
            results[size] = measure(size, Path(directory), arguments.runs)
            print(json.dumps({size: results[size]}), file=sys.stderr)
    print(table(results))
    if arguments.json:
        Path(arguments.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
