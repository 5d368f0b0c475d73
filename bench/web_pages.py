"""Time to first byte of the 工作台's pages on the 1M-posting synthetic city.

    .venv/bin/python -m bench.web_pages                       # builds the city (about 1 min)
    .venv/bin/python -m bench.web_pages --database city.db    # keeps it there for next time
    .venv/bin/python -m bench.web_pages --requests 50 --report-requests 10
    .venv/bin/python -m bench.web_pages --database city.db --paths / /home/alerts

Bulk-loads the synthetic city (scripts/synthetic_city.py, SQLite) unless the file is there
already, gives it a city clerk who signs in to the workspace, starts the real server
(`ledger serve`: uvicorn, one worker) in its own process, signs in through the sign-in form as
a browser does (its CSRF cookie and field) and asks for each page of PAGES, one request at a
time on one keep-alive connection: the first answer alone (cold), then `--requests` more. Time
to first byte is from sending the request to having the answer's headers (a page is rendered
whole before its headers are sent, so it is the server's time plus loopback); the total
includes reading the body. The 收发存汇总表 page is compared with the report's own API call
(JSON, every row) for the same filters. The home page's 库存预警 card is timed apart: its first
answer computes the city's alerts (cold), the later ones find them kept (no posting between).
Every answer must be 200 and a signed-in page.

Not part of `bench.run_all` (which rewrites BENCHMARKS.md): its figures are kept in their own
section of BENCHMARKS.md by hand.
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

# The year of the synthetic city (scripts.synthetic_city.YEAR), city-wide.
PERIOD = "under=510100&date_from=2025-01-01&date_to=2025-12-31"

# (name, path): the pages timed, in this order; a page that answers 404 is reported as missing.
PAGES: list[tuple[str, str]] = [
    ("首页", "/"),
    ("首页's 库存预警 (htmx loads it after the page)", "/home/alerts"),
    ("库存", "/stock"),
    ("收发存汇总表 page", f"/reports/period-summary?{PERIOD}"),
    ("收发存汇总表 API (JSON)", f"/api/v1/reports/period-summary?{PERIOD}"),
]
SLOW = ("收发存汇总表",)  # pages timed `--report-requests` times (a year of 1M postings each)

LOGIN = "bench-clerk@510100"
PASSWORD = "bench-password-510100"
LABEL_KEYS = "B1:bench-label-key-0123456789"
CSRF_FIELD = re.compile(r'name="_csrf" value="([^"]+)"')


def prepare(path: Path, postings: int) -> int:
    """The city at `path` (built unless there) with a signing-in city clerk; its postings."""
    from ledger.db import journal_queries
    from ledger.services.database import open_database
    from ledger.services.users import add_user, list_users
    from ledger.services.web_sign_in import set_sign_in
    from scripts.synthetic_city import load_bulk

    fresh = not path.exists()
    database = open_database(f"sqlite:///{path}")
    try:
        database.upgrade()
        if fresh:
            started = time.perf_counter()
            load_bulk(database, postings)
            print(f"bulk-loaded the city in {time.perf_counter() - started:.1f} s", flush=True)
        if not any(user.login == LOGIN for user in list_users(database)):
            user, _ = add_user(database, "压测保管员", "clerk", "510100")
            set_sign_in(database, user.id, LOGIN, PASSWORD)
        with database.read() as connection:
            return journal_queries.counts(connection)[1]
    finally:
        database.dispose()


def serve(path: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, LEDGER_DATABASE_URL=f"sqlite:///{path}")
    env.setdefault("LEDGER_LABEL_KEYS", LABEL_KEYS)
    server = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("the server did not start")


def sign_in(client, base: str) -> None:
    """Through the form, as a browser: the page's CSRF field and cookie, then the POST."""
    page = client.get(f"{base}/")
    token = CSRF_FIELD.search(page.text)
    assert token, "the sign-in page carries no CSRF token"
    answer = client.post(
        f"{base}/sign-in",
        data={"_csrf": token.group(1), "login": LOGIN, "password": PASSWORD, "next": "/"},
    )
    assert answer.status_code == 303, (answer.status_code, answer.text[:500])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(client, url: str) -> tuple[int, float, float, int, str]:
    """One GET: (status, seconds to the headers, seconds to the end, body bytes, head of body)."""
    started = time.perf_counter()
    with client.stream("GET", url) as answer:
        first = time.perf_counter() - started
        body = answer.read()
    total = time.perf_counter() - started
    return answer.status_code, first, total, len(body), body[:20000].decode("utf-8", "replace")


def measure(client, base: str, path: str, requests: int) -> dict:
    status, cold_first, _, size, head = timed(client, base + path)
    if status == 404:
        return {"path": path, "missing": True}
    assert status == 200, (path, status, head[:500])
    assert "工作台登录" not in head, f"{path}: answered the sign-in page"
    firsts, totals = [], []
    for _ in range(requests):
        status, first, total, size, _ = timed(client, base + path)
        assert status == 200, (path, status)
        firsts.append(first)
        totals.append(total)
    ms = lambda seconds: round(seconds * 1000, 1)  # noqa: E731
    return {
        "path": path,
        "requests": requests,
        "bytes": size,
        "cold_ttfb_ms": ms(cold_first),
        "ttfb_ms_p50": ms(statistics.median(firsts)),
        "ttfb_ms_p95": ms(percentile(firsts, 0.95)),
        "total_ms_p50": ms(statistics.median(totals)),
        "total_ms_p95": ms(percentile(totals, 0.95)),
    }


def run(path: Path, postings: int, requests: int, report_requests: int) -> dict:
    import httpx

    from bench.api_load import free_port

    held = prepare(path, postings)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve(path, port)
    try:
        with httpx.Client(timeout=120, follow_redirects=False) as client:
            sign_in(client, base)
            pages = {}
            for name, page in PAGES:
                count = report_requests if name.startswith(SLOW) else requests
                pages[name] = measure(client, base, page, count)
                print(json.dumps({name: pages[name]}, ensure_ascii=False), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"postings": held, "pages": pages}


def table(figures: dict) -> str:
    lines = [
        "| page | path | bytes | cold TTFB | TTFB p50 / p95 | total p50 / p95 | requests |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in figures["pages"].items():
        if row.get("missing"):
            lines.append(f"| {name} | `{row['path']}` | not built yet (404) | | | | |")
            continue
        lines.append(
            f"| {name} | `{row['path']}` | {row['bytes']:,} | {row['cold_ttfb_ms']} ms | "
            f"{row['ttfb_ms_p50']} / {row['ttfb_ms_p95']} ms | "
            f"{row['total_ms_p50']} / {row['total_ms_p95']} ms | {row['requests']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=1_000_000)
    parser.add_argument("--database", help="SQLite file of the city (built when missing)")
    parser.add_argument("--requests", type=int, default=100, help="per page, after the first")
    parser.add_argument("--report-requests", type=int, default=20, help="per 收发存汇总表 path")
    parser.add_argument(
        "--paths", nargs="*", help="time only these paths of PAGES (e.g. / /home/alerts)"
    )
    arguments = parser.parse_args()
    if arguments.paths:
        PAGES[:] = [(name, page) for name, page in PAGES if page in arguments.paths]
    if arguments.database:
        path = Path(arguments.database).resolve()
    else:
        path = Path(tempfile.mkdtemp(prefix="ledger-web-pages-")) / "city.db"
    figures = run(path, arguments.postings, arguments.requests, arguments.report_requests)
    print(f"\n{figures['postings']:,} postings; {path}\n")
    print(table(figures))


if __name__ == "__main__":
    main()
