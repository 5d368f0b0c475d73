"""What the service counts, for Prometheus at `/metrics` (prometheus-client).

- `ledger_http_requests_total{method, route, status}` and
  `ledger_http_request_duration_seconds{method, route}`: every request, by its route template
  (`/api/v1/transactions/{number:str}`, never the path itself: no voucher numbers, codes or ids
  in a label), `unmatched` for a path no route has; methods outside HTTP's own are `other`.
- `ledger_transactions_committed_total`, `ledger_postings_committed_total`: counted after the
  database commit (the unit of work tells `committed`), never before.
- `ledger_commit_postings`: postings written by one database commit (`observe_batch`).
- `ledger_verifications_total{result}`, `ledger_verification_findings_total{invariant, code}`,
  `ledger_verification_last_findings`, `ledger_verification_last_run_timestamp_seconds`:
  verifications run through the API or the workspace (`observe_verification`).
- `ledger_info{version, engine}`, `ledger_workers` (processes serving), and — with a single
  process — prometheus-client's own `process_*` (CPU, memory, open files, start time) and
  `python_*` figures.

No figure names a person, a place, an item or a voucher. Who may read them: `metrics_refusal`
(docs/observability.md).

Several worker processes: with PROMETHEUS_MULTIPROC_DIR set (an empty directory, before the
processes start) every process writes its figures there and `/metrics`, whichever process
answers it, adds them up (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from ledger.services.audit import VerificationReport
from ledger.services.database import listen_to_commits

METRICS_PATH = "/metrics"
MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# From a cached balance (about a millisecond) to a full verification (tens of seconds).
LATENCY_BUCKETS_SECONDS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)
# A command posts 2 postings per line; an opening balance up to thousands; a batch of group
# commit as many as its commands together.
BATCH_BUCKETS_POSTINGS = (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384, 65536)

requests_total = Counter(
    "ledger_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
request_seconds = Histogram(
    "ledger_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS_SECONDS,
)
transactions_committed = Counter(
    "ledger_transactions_committed", "Transactions (vouchers) committed to the ledger."
)
postings_committed = Counter("ledger_postings_committed", "Postings committed to the ledger.")
commit_postings = Histogram(
    "ledger_commit_postings",
    "Postings written by one database commit (one command today; a whole batch under group "
    "commit).",
    buckets=BATCH_BUCKETS_POSTINGS,
)
verifications = Counter(
    "ledger_verifications",
    "Verifications run through the service, by result (ok or findings).",
    ["result"],
)
verification_findings = Counter(
    "ledger_verification_findings",
    "Findings of the verifications run, by invariant (1-6) and finding code.",
    ["invariant", "code"],
)
last_findings = Gauge(
    "ledger_verification_last_findings",
    "Findings of the most recent verification (0: the ledger verified clean).",
    multiprocess_mode="mostrecent",
)
last_verified = Gauge(
    "ledger_verification_last_run_timestamp_seconds",
    "When the most recent verification finished (Unix time).",
    multiprocess_mode="max",
)
info = Gauge(
    "ledger_info",
    "The service's version and database engine (always 1).",
    ["version", "engine"],
    multiprocess_mode="max",
)
workers = Gauge("ledger_workers", "Processes serving the application.", multiprocess_mode="livesum")


_series: dict[tuple[str, str | None, int], tuple[Any, Any]] = {}  # labelled children, found once


def observe_request(method: str, route: str | None, status: int, seconds: float) -> None:
    """One answered request. `route` is the route template; None when no route matched."""
    key = (method, route, status)
    series = _series.get(key)
    if series is None:
        label = method if method in METHODS else "other"
        series = _series[key] = (
            requests_total.labels(label, route or UNMATCHED, str(status)),
            request_seconds.labels(label, route or UNMATCHED),
        )
        if len(_series) > 10_000:  # odd methods: bounded, whatever a client sends
            _series.clear()
    series[0].inc()
    series[1].observe(seconds)


def observe_batch(size: int) -> None:
    """One database commit that wrote `size` postings. The unit of work calls it (through
    `committed`) for each of its commits; a writer that commits some other way calls it
    itself, once per commit."""
    commit_postings.observe(size)


def committed(transactions: int, postings: int) -> None:
    """Told by the unit of work after a commit that made these durable."""
    transactions_committed.inc(transactions)
    postings_committed.inc(postings)
    observe_batch(postings)


def observe_verification(report: VerificationReport) -> None:
    """A verification ran to its end (one whose arguments were refused did not)."""
    verifications.labels("ok" if report.ok else "findings").inc()
    for finding in report.findings:
        verification_findings.labels(str(finding.invariant), finding.code).inc()
    last_findings.set(len(report.findings))
    last_verified.set(time.time())


def start_process(engine: str) -> Callable[[], None]:
    """Count this process among the workers and listen to commits; the answer undoes both
    (at the app's shutdown)."""
    listen_to_commits(committed)
    info.labels(package_version(), engine).set(1)
    workers.inc()

    def stop() -> None:
        workers.dec()
        if MULTIPROCESS_DIRECTORY in os.environ:
            mark_process_dead(os.getpid())  # its live figures (ledger_workers) leave the sum

    return stop


def package_version() -> str:
    try:
        return version("publicity-stock-ledger")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def exposition(accept: str) -> tuple[bytes, str]:
    """The figures in the format the scraper asked for (text, or OpenMetrics) and its media
    type; with several processes, the sum of theirs."""
    encoder, media_type = choose_encoder(accept)
    if MULTIPROCESS_DIRECTORY in os.environ:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return encoder(registry), media_type
    return encoder(REGISTRY), media_type


LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
PROXY_HEADERS = (b"forwarded", b"x-forwarded-for", b"x-real-ip")


def metrics_refusal(
    token: str | None, headers: dict[bytes, bytes], client: tuple[str, int] | None
) -> int | None:
    """Who may read `/metrics`: None when the request may, else the status to refuse it with.

    With LEDGER_METRICS_TOKEN set: a request that carries `Authorization: Bearer <the token>`,
    from anywhere (401 otherwise). Without it: only a client on this machine (loopback) whose
    request came through no proxy (no Forwarded, X-Forwarded-For or X-Real-IP header: a proxy
    on this machine would otherwise make every client look local) — 403 otherwise."""
    if token:
        sent = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, given = sent.partition(" ")
        good = scheme.lower() == "bearer" and secrets.compare_digest(
            given.strip().encode("utf-8", "replace"), token.encode("utf-8")
        )
        return None if good else 401
    if any(name in headers for name in PROXY_HEADERS):
        return 403
    try:
        address = ipaddress.ip_address(client[0]) if client else None
    except ValueError:  # a test client's or a Unix socket's name
        return 403
    if address is None or not any(address in network for network in LOOPBACK):
        return 403
    return None
