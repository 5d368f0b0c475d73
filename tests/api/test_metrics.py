"""`/metrics`: requests by route template and status, latency histograms, postings committed
after their commit, postings per commit, verifications and their findings, and who may read
them (a token from anywhere, or this machine without one)."""

from __future__ import annotations

import anyio
import httpx
import pytest
from litestar.testing import TestClient
from prometheus_client import REGISTRY

from api.app import create_app
from ledger.rules import Code, LedgerError
from ledger.settings import Settings
from tests.api.conftest import headers
from tests.conftest import TODAY

V1 = "/api/v1"
METRICS_TOKEN = "metrics-token-for-the-tests-0123"
TRANSACTION_ROUTE = f"{V1}/transactions/{{number}}"


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def requests(route: str, status: int, method: str = "GET") -> float:
    return value("ledger_http_requests_total", method=method, route=route, status=str(status))


@pytest.fixture
def metered(api_database, monkeypatch):
    """A client of an app that lets the metrics token read /metrics."""
    monkeypatch.setenv("LEDGER_METRICS_TOKEN", METRICS_TOKEN)
    with TestClient(app=create_app(api_database, clock=lambda: TODAY)) as client:
        yield client


def scrape(client) -> str:
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text


def test_requests_are_counted_by_route_template_and_status_never_by_path(metered, numbers):
    number = next(iter(numbers.distribution.values()))
    found_before = requests(TRANSACTION_ROUTE, 200)
    missing_before = requests(TRANSACTION_ROUTE, 404)
    unmatched_before = requests("unmatched", 404)
    assert metered.get(f"{V1}/transactions/{number}", headers=headers("clerk")).status_code == 200
    for _ in range(2):
        missing = metered.get(f"{V1}/transactions/RK-2026-999999", headers=headers("clerk"))
        assert missing.status_code == 404
    assert metered.get("/no/such/page/510121").status_code == 404
    assert requests(TRANSACTION_ROUTE, 200) == found_before + 1
    assert requests(TRANSACTION_ROUTE, 404) == missing_before + 2
    assert requests("unmatched", 404) == unmatched_before + 1
    text = scrape(metered)
    assert f'route="{TRANSACTION_ROUTE}",status="404"' in text
    assert number not in text and "RK-2026-999999" not in text and "510121" not in text


def test_each_request_lands_in_its_routes_latency_histogram(metered):
    def bucket(le: str) -> float:
        return value(
            "ledger_http_request_duration_seconds_bucket", method="GET", route="/health", le=le
        )

    count = value("ledger_http_request_duration_seconds_count", method="GET", route="/health")
    everything, slowest = bucket("+Inf"), bucket("60.0")
    for _ in range(3):
        assert metered.get("/health").status_code == 200
    assert value("ledger_http_request_duration_seconds_count", method="GET", route="/health") == (
        count + 3
    )
    assert bucket("+Inf") == everything + 3 and bucket("60.0") == slowest + 3
    assert value("ledger_http_request_duration_seconds_sum", method="GET", route="/health") > 0
    text = scrape(metered)
    assert (
        'ledger_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/health"}'
        in (text)
    )


def receipt(client, quantity: int, lines: int = 1):
    return client.post(
        f"{V1}/transactions/receipts",
        json={
            "location_code": "510121",
            "lines": [
                {"item_code": "NH2014", "batch_number": f"2014-1{line}", "quantity": quantity}
                for line in range(lines)
            ],
        },
        headers=headers("clerk"),
    )


def test_postings_are_counted_once_committed_and_a_refused_command_counts_nothing(metered):
    postings = value("ledger_postings_committed_total")
    transactions = value("ledger_transactions_committed_total")
    commits = value("ledger_commit_postings_count")
    six = value("ledger_commit_postings_bucket", le="8.0") - value(
        "ledger_commit_postings_bucket", le="4.0"
    )
    answer = receipt(metered, 10, lines=3)
    assert answer.status_code == 201, answer.text
    assert len(answer.json()["postings"]) == 6
    assert value("ledger_postings_committed_total") == postings + 6
    assert value("ledger_transactions_committed_total") == transactions + 1
    assert value("ledger_commit_postings_count") == commits + 1
    assert value("ledger_commit_postings_bucket", le="8.0") - value(
        "ledger_commit_postings_bucket", le="4.0"
    ) == (six + 1)
    refused = receipt(metered, 0)
    assert refused.status_code in (400, 422)
    assert value("ledger_postings_committed_total") == postings + 6
    assert value("ledger_commit_postings_count") == commits + 1
    assert "ledger_postings_committed_total" in scrape(metered)


def test_postings_are_counted_when_another_connection_can_already_read_them(metered, api_database):
    """Counted after the commit, not before: when the unit of work tells of a commit, a
    connection of its own already reads what it wrote."""
    from ledger.db.unit_of_work import commit_listeners
    from ledger.services.database import ledger_size, listen_to_commits

    seen: list[tuple[int, int, int]] = []

    def look(transactions: int, postings: int) -> None:
        seen.append((transactions, postings, ledger_size(api_database)[1]))

    before = ledger_size(api_database)[1]
    listen_to_commits(look)
    try:
        assert receipt(metered, 10, lines=2).status_code == 201
    finally:
        commit_listeners.remove(look)
    assert seen == [(1, 4, before + 4)]


def test_a_verification_sets_its_result_and_findings(metered):
    url = f"{V1}/audit/verification"
    clean = value("ledger_verifications_total", result="ok")
    found = value("ledger_verifications_total", result="findings")
    mismatches = value(
        "ledger_verification_findings_total", invariant="5", code="checkpoint_mismatch"
    )
    assert metered.get(url, headers=headers("auditor-root")).json()["ok"]
    assert value("ledger_verifications_total", result="ok") == clean + 1
    assert value("ledger_verification_last_findings") == 0
    ran_at = value("ledger_verification_last_run_timestamp_seconds")
    assert ran_at > 0
    digest = metered.get(f"{V1}/chain/digest", headers=headers("clerk")).json()
    wrong = f"{digest['sequence']}:{'0' * 16}"
    report = metered.get(url, params={"checkpoint": wrong}, headers=headers("auditor-root")).json()
    assert [(f["invariant"], f["code"]) for f in report["findings"]] == [(5, "checkpoint_mismatch")]
    assert value("ledger_verifications_total", result="findings") == found + 1
    assert value("ledger_verification_last_findings") == 1
    assert (
        value("ledger_verification_findings_total", invariant="5", code="checkpoint_mismatch")
        == mismatches + 1
    )
    assert value("ledger_verification_last_run_timestamp_seconds") >= ran_at
    refused = metered.get(url, params={"checkpoint": "12:xyz"}, headers=headers("auditor-root"))
    assert refused.status_code == 400
    assert value("ledger_verification_last_findings") == 1  # a refused request verified nothing


def test_the_process_and_the_service_are_described(metered):
    text = scrape(metered)
    assert 'ledger_info{engine="sqlite",version="' in text
    assert "ledger_workers " in text
    assert "process_resident_memory_bytes" in text and "process_start_time_seconds" in text


# ---- who may read /metrics ---------------------------------------------------------------------


def test_with_a_token_only_its_bearer_reads_the_metrics(metered):
    assert metered.get("/metrics").status_code == 401
    assert metered.get("/metrics").headers["www-authenticate"] == "Bearer"
    wrong = metered.get("/metrics", headers={"Authorization": "Bearer not-the-token-at-all"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "unauthenticated"
    user_token = metered.get("/metrics", headers=headers("admin"))  # a user's token is not it
    assert user_token.status_code == 401
    assert metered.post("/metrics").status_code == 405
    assert "ledger_http_requests_total" in scrape(metered)


def loopback_get(app, client_host: str, extra: dict[str, str] | None = None) -> httpx.Response:
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(client_host, 50123))
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger") as client:
            return await client.get("/metrics", headers=extra or {})

    return anyio.run(get)


def test_without_a_token_only_this_machine_reads_the_metrics(api_database, monkeypatch):
    monkeypatch.delenv("LEDGER_METRICS_TOKEN", raising=False)
    app = create_app(api_database, clock=lambda: TODAY)
    assert loopback_get(app, "127.0.0.1").status_code == 200
    assert loopback_get(app, "::1").status_code == 200
    assert loopback_get(app, "192.168.1.20").status_code == 403
    through_a_proxy = loopback_get(app, "127.0.0.1", {"X-Forwarded-For": "203.0.113.9"})
    assert through_a_proxy.status_code == 403
    assert loopback_get(app, "127.0.0.1", {"Forwarded": "for=203.0.113.9"}).status_code == 403
    with TestClient(app=app) as client:  # the test client's address is "testclient"
        refused = client.get("/metrics")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


@pytest.mark.parametrize(
    "token", ["short", "has spaces in it, sixteen+", "令牌令牌令牌令牌令牌令牌令牌令牌"]
)
def test_a_metrics_token_that_is_short_or_odd_stops_the_start(token):
    with pytest.raises(LedgerError) as refused:
        Settings.from_environment({"LEDGER_METRICS_TOKEN": token})
    assert refused.value.code == Code.invalid_setting
