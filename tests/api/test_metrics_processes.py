"""Several worker processes: with PROMETHEUS_MULTIPROC_DIR set, `/metrics` answered by any one
of them adds up what every process counted (prometheus-client's multiprocess mode), and a
process that has stopped leaves the count of workers."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.api.test_metrics import METRICS_TOKEN

# One worker: answers `count` health checks, then (`scrape`) prints /metrics, then stops.
WORKER = """
import sys
from litestar.testing import TestClient
from api.app import create_app

count, then = int(sys.argv[1]), sys.argv[2]
with TestClient(app=create_app()) as client:
    for _ in range(count):
        assert client.get("/health").status_code == 200
    if then == "scrape":
        answer = client.get("/metrics", headers={"Authorization": "Bearer " + sys.argv[3]})
        assert answer.status_code == 200, answer.text
        print(answer.text)
"""


def worker(environment: dict[str, str], count: int, then: str = "stop") -> str:
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(count), then, METRICS_TOKEN],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def sample(text: str, line_start: str) -> float:
    found = re.search(rf"^{re.escape(line_start)} (\S+)$", text, re.MULTILINE)
    assert found, f"{line_start} not in the metrics"
    return float(found.group(1))


def test_metrics_add_up_the_figures_of_every_worker_process(api_database, tmp_path):
    directory = tmp_path / "prometheus"
    directory.mkdir()
    environment = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "LEDGER_DATABASE_URL": api_database.engine.url.render_as_string(hide_password=False),
        "LEDGER_METRICS_TOKEN": METRICS_TOKEN,
    }
    worker(environment, 2)
    text = worker(environment, 3, "scrape")
    health = 'ledger_http_requests_total{method="GET",route="/health",status="200"}'
    assert sample(text, health) == 2 + 3
    histogram = 'ledger_http_request_duration_seconds_count{method="GET",route="/health"}'
    assert sample(text, histogram) == 5
    assert sample(text, "ledger_workers") == 1  # the one that stopped is not counted
    assert len({path.name.rsplit("_", 1)[-1] for path in directory.glob("*.db")}) == 2  # pids
