"""No input breaks the server: every operation of the OpenAPI document (`/schema/openapi.json`),
on SQLite and PostgreSQL, gets hand-built hostile input and answers each with a 4xx
`application/problem+json` carrying a stable code, never a 5xx; afterwards the chain head, every
balance and every other stored row are as before, and the server still answers.

The hostile inputs, per operation (a valid admin request from the permission table, with one
thing broken at a time):
- path and query parameters: a NUL, text over `request_text_length_max`, integers beyond 32
  bits or written as `1e3` / `10.0`, dates 0001-01-01 and 9999-12-31;
- headers: a NUL, an Idempotency-Key over its documented 200 characters;
- any body: not `application/json`, invalid UTF-8, malformed JSON, nested 100,000 deep or just
  past `request_depth_max`, a NUL, an array over `request_array_length_max`, a huge integer, a
  body over `request_body_bytes_max`;
- the operation's own body: each integer as `"10"`, `10.0`, `1e3`, `true` and beyond 32 bits,
  each string with a NUL or too long, each date of its schema far outside the ledger, an
  unknown field, each code as an emoji, empty or over its 40 characters, each integer -1.

Hand-built rather than generated: a few thousand requests per engine in seconds (the
schemathesis test in test_schema.py generates requests within the schema).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from typing import Any, NamedTuple
from urllib.parse import quote

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from api.app import create_app
from ledger.db import tables as t
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.limits import (
    request_array_length_max,
    request_body_bytes_max,
    request_depth_max,
    request_text_length_max,
)
from tests.api.conftest import fill_template, headers
from tests.api.test_permissions import CASES, Call
from tests.conftest import TODAY, PostgresSchema

PROBLEM = "application/problem+json"
ADMIN = headers("admin")
# Rows a refused request may leave: the replayable answer to a key, the operations log.
UNCHECKED_TABLES = {"http_idempotency", "idempotency_keys", "operations_log"}
METHODS = ("get", "post", "put", "patch", "delete")
RAW = "\ue000raw:"  # a string leaf starting with this is written into the JSON unquoted


class Hostile(NamedTuple):
    what: str
    path: str
    params: dict | None = None
    headers: dict | None = None
    content: bytes | None = None
    content_type: str = "application/json"
    codes: frozenset[str] | None = None  # the stable codes it may get; None: any 4xx code


class Operation(NamedTuple):
    method: str
    path: str  # as the OpenAPI document writes it
    parameters: list[dict]
    body_schema: dict | None


# ---- the operations of the OpenAPI document ------------------------------------------------------


def operations_of(document: dict) -> list[Operation]:
    found = []
    for path, item in document["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            found.append(
                Operation(
                    method.upper(),
                    path,
                    operation.get("parameters", []),
                    body["schema"] if body else None,
                )
            )
    return sorted(found)


def _document() -> dict:
    database = Database.from_url("sqlite://")
    return create_app(database).openapi_schema.to_schema()


DOCUMENT = _document()
OPERATIONS = operations_of(DOCUMENT)


def _route_key(operation: Operation) -> tuple[str, str] | None:
    """The permission table's key for an operation (it writes `{code:str}` for `{code}`)."""
    for method, path in CASES:
        if method == operation.method and re.sub(r":\w+}", "}", path) == operation.path:
            return method, path
    return None


def base_call(operation: Operation, numbers) -> Call:
    """A request an admin may make: the permission table's, or placeholders for a route it
    does not know yet."""
    key = _route_key(operation)
    if key is not None:
        return CASES[key].build("admin", "in", numbers)
    placeholders = {
        parameter["name"]: "1" if _type(parameter.get("schema", {})) == "integer" else "X"
        for parameter in operation.parameters
        if parameter["in"] == "path"
    }
    return Call(operation.path.format(**placeholders))


def path_values(operation: Operation, concrete: str) -> dict[str, str]:
    pattern = re.escape(operation.path)
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
    match = re.fullmatch(pattern, concrete)
    assert match, (operation.path, concrete)
    return match.groupdict()


def _type(schema: dict) -> str | None:
    if "type" in schema:
        return schema["type"]
    for option in schema.get("oneOf", []) + schema.get("anyOf", []):
        if option.get("type") not in (None, "null"):
            return option["type"]
    return None


def _format(schema: dict) -> str | None:
    if "format" in schema:
        return schema["format"]
    for option in schema.get("oneOf", []) + schema.get("anyOf", []):
        if option.get("format"):
            return option["format"]
    return None


def resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    for option in schema.get("oneOf", []) + schema.get("anyOf", []):
        if "$ref" in option or option.get("type") == "object":
            return resolve(option)
    return schema


def date_fields(schema: dict) -> list[tuple[str, ...]]:
    """Paths (keys, with 0 for the first element of an array) of the dates a body may hold."""
    found = []
    for name, property_schema in resolve(schema).get("properties", {}).items():
        if _format(property_schema) == "date":
            found.append((name,))
        elif _type(property_schema) == "array":
            items = resolve(property_schema.get("items", {}))
            for inner, inner_schema in items.get("properties", {}).items():
                if _format(inner_schema) == "date":
                    found.append((name, 0, inner))
    return found


# ---- hostile inputs -------------------------------------------------------------------------------


def encode(body: Any) -> bytes:
    content = json.dumps(body, ensure_ascii=False)
    return re.sub(f'"{RAW}([^"]*)"', r"\1", content).encode()


def leaves(value: Any, where: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*where, index))
    else:
        yield where, value


def replaced(body: Any, where: tuple, value: Any) -> Any:
    if not where:
        return value
    copy = json.loads(json.dumps(body))
    node = copy
    for step in where[:-1]:
        node = node[step]
    if isinstance(node, list) and where[-1] >= len(node):
        return copy
    node[where[-1]] = value
    return copy


def codes(*names: str) -> frozenset[str]:
    return frozenset(names)


LONG = "长" * (request_text_length_max + 1)
HUGE = "99999999999999999999"


def hostile_inputs(operation: Operation, call: Call) -> list[Hostile]:
    found: list[Hostile] = []
    values = path_values(operation, call.path)
    params = call.params or {}
    body = call.body

    def at(path_params: dict[str, str]) -> str:
        return operation.path.format(**{k: quote(v, safe="") for k, v in path_params.items()})

    valid_body = encode(body) if body is not None else None

    def with_body(what, content, expected, content_type="application/json", path=None):
        found.append(
            Hostile(what, path or call.path, params, None, content, content_type, expected)
        )

    for parameter in operation.parameters:
        name, kind = parameter["name"], _type(parameter.get("schema", {}))
        schema_format = _format(parameter.get("schema", {}))
        if parameter["in"] == "path":
            bad = [("NUL", "a\x00b", codes("invalid_character"))]
            if kind == "integer":  # the router finds no route for a NUL where a number goes
                bad = [("NUL", "a\x00b", codes("invalid_character", "not_found"))]
                bad.append(("beyond 32 bits", HUGE, codes("integer_out_of_range")))
            else:
                bad.append(("too long", LONG, codes("text_too_long")))
            for what, value, expected in bad:
                path = at({**values, name: value})
                found.append(
                    Hostile(f"path {name}: {what}", path, params, None, valid_body, codes=expected)
                )
        elif parameter["in"] == "query":
            bad = [
                ("NUL", "a\x00b", codes("invalid_character")),
                ("too long", LONG, codes("text_too_long")),
            ]
            if kind == "integer":
                bad += [
                    ("beyond 32 bits", HUGE, codes("integer_out_of_range")),
                    ("1e3", "1e3", codes("integer_required")),
                    ("10.5", "10.5", codes("integer_required")),
                    ("text", "十", codes("integer_required")),
                ]
            if schema_format == "date":
                bad += [
                    ("0001-01-01", "0001-01-01", codes("date_out_of_range")),
                    ("9999-12-31", "9999-12-31", codes("date_out_of_range")),
                ]
            for what, value, expected in bad:
                found.append(
                    Hostile(
                        f"query {name}: {what}",
                        call.path,
                        {**params, name: value},
                        None,
                        valid_body,
                        codes=expected,
                    )
                )
    found.append(
        Hostile(
            "header with a NUL",
            call.path,
            params,
            {"X-Note": "a\x00b"},
            valid_body,
            codes=codes("invalid_character"),
        )
    )
    if any(parameter["name"] == "Idempotency-Key" for parameter in operation.parameters):
        for what, key, expected in (
            ("Idempotency-Key over 200", "k" * 201, codes("text_too_long")),
            ("Idempotency-Key with a NUL", "k\x00k", codes("invalid_character")),
        ):
            found.append(
                Hostile(
                    what, call.path, params, {"Idempotency-Key": key}, valid_body, codes=expected
                )
            )

    # Any body, on any route.
    sample = valid_body or b"{}"
    with_body("text/plain", sample, codes("unsupported_media_type"), "text/plain")
    with_body(
        "a form", b"a=1", codes("unsupported_media_type"), "application/x-www-form-urlencoded"
    )
    with_body(
        "latin-1 JSON", sample, codes("unsupported_media_type"), "application/json; charset=latin-1"
    )
    with_body("invalid UTF-8", b'{"memo": "\xff\xfe"}', codes("invalid_encoding"))
    with_body("malformed JSON", b'{"memo": ', codes("malformed_json"))
    with_body("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, codes("body_too_deep"))
    nested: Any = 1
    for _ in range(request_depth_max + 1):
        nested = {"a": nested}
    with_body("nested past the limit", encode(nested), codes("body_too_deep"))
    with_body("a NUL", encode({"memo": "a\x00b"}), codes("invalid_character"))
    with_body(
        "a long array",
        encode({"lines": [1] * (request_array_length_max + 1)}),
        codes("array_too_long"),
    )
    with_body("a huge integer", b'{"quantity": 1' + b"0" * 40 + b"}", codes("integer_out_of_range"))
    with_body(
        "over the size limit",
        b'{"memo": "' + b"x" * request_body_bytes_max + b'"}',
        codes("body_too_large"),
    )
    if body is None or operation.body_schema is None:
        return found

    # The operation's own body, one field at a time.
    def typed(what, new_body, expected):
        with_body(what, encode(new_body), expected)

    typed("an unknown field", {**body, "unexpected": 1}, codes("invalid_request"))
    for where, value in leaves(body):
        label = ".".join(str(step) for step in where)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            for what, bad, expected in (
                ('"10"', str(value), "integer_required"),
                ("10.0", f"{RAW}{value}.0", "integer_required"),
                ("1e3", f"{RAW}{value}e0", "integer_required"),
                ("true", True, "integer_required"),
                ("beyond 32 bits", 2**40, "integer_out_of_range"),
            ):
                typed(f"{label} = {what}", replaced(body, where, bad), codes(expected))
            if where[-1] != "difference":  # an adjustment's difference may be negative
                typed(f"{label} = -1", replaced(body, where, -1), None)
        elif isinstance(value, str):
            typed(
                f"{label} with a NUL",
                replaced(body, where, value + "\x00"),
                codes("invalid_character"),
            )
            typed(f"{label} too long", replaced(body, where, LONG), codes("text_too_long"))
            if where[-1] in ("code",) or str(where[-1]).endswith(("_code", "number")):
                for what, bad in (("an emoji", "😀"), ("empty", ""), ("41 characters", "X" * 41)):
                    typed(f"{label} {what}", replaced(body, where, bad), None)
    for where in date_fields(operation.body_schema):
        try:  # a date of a line needs the line
            target = body
            for step in where[:-1]:
                target = target[step]
        except (IndexError, KeyError):
            continue
        for day in ("0001-01-01", "9999-12-31"):
            typed(
                f"{'.'.join(map(str, where))} = {day}",
                replaced(body, where, day),
                codes("date_out_of_range"),
            )
    return found


# ---- the apps ---------------------------------------------------------------------------------------


class Server(NamedTuple):
    client: TestClient
    database: Database
    numbers: Any


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def server(request, template, tmp_path_factory) -> Iterator[Server]:
    if request.param == "sqlite":
        source, numbers = template
        copy = tmp_path_factory.mktemp("hostile") / "hostile.db"
        shutil.copyfile(source, copy)
        database = Database(make_engine(f"sqlite:///{copy}"))
        schema = None
    else:
        schema = PostgresSchema()
        engine = schema.engine()
        numbers = fill_template(engine)
        database = Database(engine)
    try:
        with TestClient(app=create_app(database, clock=lambda: TODAY)) as client:
            yield Server(client, database, numbers)
    finally:
        database.dispose()
        if schema is not None:
            schema.drop()


def snapshot(server: Server) -> dict:
    """The chain head and every balance through the API, and every stored row."""
    client = server.client
    digest = client.get("/api/v1/chain/digest", headers=ADMIN)
    assert digest.status_code == 200, digest.text
    balances = []
    offset: int | None = 0
    while offset is not None:
        page = client.get(
            "/api/v1/balances", params={"limit": 200, "offset": offset}, headers=ADMIN
        ).json()
        balances += page["items"]
        offset = page["next_offset"]
    rows = {}
    with server.database.read() as connection:
        for table in t.Base.metadata.sorted_tables:
            if table.name in UNCHECKED_TABLES:
                continue
            rows[table.name] = sorted(map(repr, connection.execute(select(table)).all()))
    return {"digest": digest.json(), "balances": balances, "rows": rows}


def send(client: TestClient, method: str, hostile: Hostile):
    request_headers = dict(ADMIN)
    request_headers.update(hostile.headers or {})
    if hostile.content is not None:
        request_headers["Content-Type"] = hostile.content_type
    return client.request(
        method,
        hostile.path,
        params=hostile.params,
        headers=request_headers,
        content=hostile.content,
    )


@pytest.mark.parametrize(
    "operation", OPERATIONS, ids=[f"{op.method} {op.path}" for op in OPERATIONS]
)
def test_hostile_input_is_refused_and_changes_nothing(server, operation):
    call = base_call(operation, server.numbers)
    before = snapshot(server)
    failures = []
    hostile = hostile_inputs(operation, call)
    for case in hostile:
        response = send(server.client, operation.method, case)
        problem = response.headers.get("content-type", "").startswith(PROBLEM)
        code = response.json().get("code") if problem else None
        if not (400 <= response.status_code < 500 and problem and code):
            failures.append((case.what, response.status_code, response.text[:300]))
        elif case.codes is not None and code not in case.codes:
            failures.append(
                (case.what, response.status_code, f"code {code}, not {set(case.codes)}")
            )
    assert not failures, "\n".join(map(str, failures))
    assert server.client.get("/health").status_code == 200
    assert server.client.get("/api/v1/me", headers=ADMIN).status_code == 200
    after = snapshot(server)
    assert after["digest"] == before["digest"]
    assert after["balances"] == before["balances"]
    for table, rows in before["rows"].items():
        assert after["rows"][table] == rows, f"{operation.method} {operation.path} changed {table}"


def test_every_operation_of_the_served_document_is_fuzzed(server):
    served = server.client.get("/schema/openapi.json").json()
    assert operations_of(served) == OPERATIONS
    assert len(OPERATIONS) > 50


# ---- one JSON type per field --------------------------------------------------------------------

SHAPES: dict[str, dict] = {}  # engine → operation → JSON path → types seen


def shapes(value: Any, path: str = "", found: dict | None = None) -> dict[str, set[str]]:
    found = {} if found is None else found
    if isinstance(value, dict):
        for key, item in value.items():
            shapes(item, f"{path}.{key}", found)
    elif isinstance(value, list):
        for item in value:
            shapes(item, f"{path}[]", found)
    elif value is not None:
        found.setdefault(path, set()).add(type(value).__name__)
    return found


def test_every_field_has_one_json_type_on_both_engines(server, request):
    """Each GET of the OpenAPI document answers with the same JSON type per field on SQLite and
    PostgreSQL (as-of balances were strings on PostgreSQL: SUM of a BIGINT is a NUMERIC there).
    The second engine's run compares with the first's."""
    engine = request.node.callspec.params["server"]
    seen: dict[str, Any] = {}
    for operation in OPERATIONS:
        if operation.method != "GET":
            continue
        call = base_call(operation, server.numbers)
        for params in (call.params or {}, {**(call.params or {}), "as_of": TODAY.isoformat()}):
            response = server.client.get(call.path, params=params, headers=ADMIN)
            key = f"{operation.path} {sorted(params)}"
            if response.headers.get("content-type", "").startswith("application/json"):
                seen[key] = (response.status_code, shapes(response.json()))
            else:
                seen[key] = (response.status_code, response.headers.get("content-type"))
    SHAPES[engine] = seen
    others = [shape for name, shape in SHAPES.items() if name != engine]
    for other in others:
        for key, (status, found) in seen.items():
            other_status, other_found = other[key]
            assert status == other_status, key
            if isinstance(found, dict):
                for path in set(found) & set(other_found):
                    assert found[path] == other_found[path], (key, path)
    assert any(isinstance(found, dict) and found for _, found in seen.values())
