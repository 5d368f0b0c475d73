"""Schemathesis against the app's own OpenAPI schema: generated requests to every operation, a
bounded number each. No answer is a 5xx, and every answer matches the schema (status code,
content type, body).

The operations are driven through Hypothesis directly (one test per operation) rather than
through schemathesis' pytest plugin, which does not yet work with this pytest.
"""

from __future__ import annotations

import os
import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import content_type_conformance, not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from api.app import create_app
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from tests.api.conftest import headers
from tests.conftest import TODAY

EXAMPLES_PER_OPERATION = int(os.environ.get("LEDGER_FUZZ_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _operations():
    database = Database.from_url("sqlite://")
    schema = schemathesis.openapi.from_dict(create_app(database).openapi_schema.to_schema())
    return sorted(f"{op.ok().method.upper()} {op.ok().path}" for op in schema.get_all_operations())


@pytest.fixture(scope="module")
def fuzzed_schema(template, tmp_path_factory):
    source, _ = template
    copy = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    shutil.copyfile(source, copy)
    database = Database(make_engine(f"sqlite:///{copy}"))
    app = create_app(database, clock=lambda: TODAY)
    yield schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    database.dispose()


@pytest.mark.parametrize("operation", _operations())
def test_every_operation_answers_within_its_schema(fuzzed_schema, operation):
    method, path = operation.split(" ", 1)
    found = fuzzed_schema[path][method]

    @given(case=found.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case):
        case.call_and_validate(headers=headers("admin"), checks=CHECKS)

    run()
