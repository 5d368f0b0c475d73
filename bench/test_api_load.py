"""The HTTP API under load: the real server (uvicorn, one worker) on loopback, the load from a
separate process. Posting an issue and reading a balance, on SQLite and PostgreSQL.

Run: .venv/bin/python -m pytest bench/test_api_load.py --benchmark-only -s
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from bench.api_load import run
from tests.conftest import PG_URL, PostgresSchema

SECONDS = 10
CONNECTIONS = 4


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    if request.param == "sqlite":
        with tempfile.TemporaryDirectory(prefix="ledger-load-") as directory:
            yield f"sqlite:///{Path(directory) / 'load.db'}"
        return
    schema = PostgresSchema()
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema.name}"
    finally:
        schema.drop()


@pytest.mark.parametrize("kind", ["post", "read", "scan"])
def test_api_under_load(benchmark, database_url, kind):
    figures = benchmark.pedantic(
        run, args=(database_url, kind, SECONDS, CONNECTIONS), rounds=1, iterations=1
    )
    benchmark.extra_info.update(figures)
    print(figures)
    assert set(figures["statuses"]) == {"201" if kind == "post" else "200"}
    assert figures["requests"] > 0
    if kind == "scan":  # every scan landed in a document; nothing posted yet
        assert figures["packs_in_documents"] == figures["posted_base_units"] == figures["requests"]
        assert figures["city_before"] == figures["city_after"]
    else:
        assert figures["city_before"] - figures["city_after"] == figures["posted_base_units"]
