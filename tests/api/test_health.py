"""The service until the API issue lands: health and the OpenAPI schema."""

from __future__ import annotations

from litestar.testing import TestClient

from api.app import create_app


def test_health_answers_ok_when_the_database_does(database):
    with TestClient(app=create_app(database)) as client:
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_health_answers_503_when_the_database_is_gone(tmp_path):
    from ledger.db.unit_of_work import Database

    database = Database.from_url(f"sqlite:///{tmp_path / 'never-migrated.db'}")
    with TestClient(app=create_app(database)) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_the_openapi_schema_is_served(database):
    with TestClient(app=create_app(database)) as client:
        schema = client.get("/schema/openapi.json")
        page = client.get("/schema")
    assert schema.status_code == 200 and "/health" in schema.json()["paths"]
    assert page.status_code == 200


def test_an_answer_with_no_content_documents_none(database):
    """A 204 has no body: the schema gives it no media type (a client or a schema checker
    that trusted `application/json` would try to parse nothing)."""
    with TestClient(app=create_app(database)) as client:
        paths = client.get("/schema/openapi.json").json()["paths"]
    empty = {
        (path, method): answer
        for path, operations in paths.items()
        for method, operation in operations.items()
        if isinstance(operation, dict)
        for status, answer in operation.get("responses", {}).items()
        if status == "204"
    }
    assert ("/api/v1/me/password", "post") in empty
    assert all("content" not in answer for answer in empty.values()), empty
