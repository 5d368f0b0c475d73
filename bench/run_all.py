"""Every benchmark in one run, written up as BENCHMARKS.md.

    .venv/bin/python -m bench.run_all            # about 20 minutes on 2 cores
    .venv/bin/python -m bench.run_all --quick    # without the 10-million-posting ledger

Runs the pytest-benchmark suites in bench/ (posting, HTTP under load, label sheets, the ledger at
1 and 10 million postings; each asserts its results) and the side-by-side comparison with
hledger, ledger-cli and Beancount (bench/peers/compare.py), then writes BENCHMARKS.md: a table of
figures with the machine, the date and how to reproduce them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    postgres = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return (
        f"{os.cpu_count()} × {cpu}{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}; {postgres or 'no psql'}"
    )


def figure(bench: dict) -> str:
    info = bench.get("extra_info", {})
    mean = bench["stats"]["mean"]
    if "requests_per_second" in info:
        return (
            f"{info['requests_per_second']:,} requests/s, p50 {info['latency_ms_p50']} ms, "
            f"p99 {info['latency_ms_p99']} ms"
        )
    if "postings_per_second" in info and "seconds" in info:
        return f"{info['postings']:,} postings in {info['seconds']} s ({info['postings_per_second']:,}/s)"
    if "postings_per_second" in info:
        return f"{info['postings_per_second']:,} postings/s (mean {mean:.3f} s)"
    if "labels_per_second" in info:
        return f"{info['labels']:,} labels in {mean:.2f} s ({info['labels_per_second']:,}/s)"
    if "postings" in info:
        return f"{mean:.3f} s over {info['postings']:,} postings"
    return f"mean {mean:.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 10-million-posting ledger")
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    arguments = parser.parse_args()
    env = dict(os.environ)
    if not arguments.quick:
        env["LEDGER_BENCH_10M"] = "1"
    started = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as directory:
        suites = Path(directory) / "suites.json"
        peers = Path(directory) / "peers.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "bench",
                "--benchmark-only",
                "-q",
                f"--benchmark-json={suites}",
                "-p",
                "no:cacheprovider",
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        peer_table = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.peers.compare",
                "--sizes",
                "100000",
                "1000000",
                "--json",
                str(peers),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        benches = json.loads(suites.read_text())["benchmarks"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured {started:%Y-%m-%d} on: {machine()}.",
        "",
        "Reproduce: `.venv/bin/python -m bench.run_all` (after the README's Test command has made",
        "`.venv`); PostgreSQL cases use `LEDGER_TEST_PG_URL`. Every benchmark checks its result",
        "(balances, verification, decoded labels, response codes), not only its time.",
        "",
        "| benchmark | figure |",
        "|---|---|",
    ]
    for bench in benches:
        lines.append(f"| `{bench['fullname'].removeprefix('bench/')}` | {figure(bench)} |")
    lines += [
        "",
        "## Side by side with hledger, ledger-cli and Beancount",
        "",
        "`python -m bench.peers.compare`: the synthetic city bulk-loaded, exported, and the same",
        "balances computed by each (all four agree; checked). Times are the best of 3 runs,",
        "`bean-check` and `verify` one run.",
        "",
        peer_table.strip(),
        "",
    ]
    Path(arguments.out).write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {arguments.out}")


if __name__ == "__main__":
    main()
