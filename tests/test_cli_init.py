"""`ledger init`: a real office's ledger started on an empty database (SQLite file made by it,
or a PostgreSQL database), with its city as the root and a first admin whose token is printed
once; refused, with nothing changed, on a ledger that holds anything."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import inspect, select, text

from api.app import create_app
from ledger.db import tables as t
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from tests.conftest import PG_URL, PostgresSchema
from tests.support import ledger_command

ADMIN = "市宣传中心系统管理员"
INIT = ("init", "--root-code", "510100", "--root-name", "成都市", "--admin", ADMIN)


@dataclass
class Place:
    """A database the CLI is pointed at, and a way to run the CLI there."""

    url: str
    engine_options: dict

    def run(self, *arguments: str) -> subprocess.CompletedProcess:
        return ledger_command(self.url)(*arguments)

    def database(self) -> Database:
        return Database(make_engine(self.url, **self.engine_options))

    def snapshot(self) -> dict[str, object]:
        """Every table's rows (sorted), to show that a refusal changed nothing."""
        database = self.database()
        try:
            with database.read() as connection:
                names = sorted(inspect(connection).get_table_names())
                return {
                    name: sorted(
                        map(repr, connection.execute(text(f'SELECT * FROM "{name}"')).all())
                    )
                    for name in names
                }
        finally:
            database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def place(request, tmp_path) -> Iterator[Place]:
    if request.param == "sqlite":
        # A folder and a file that do not exist yet: init makes them.
        yield Place(f"sqlite:///{tmp_path / 'office' / 'ledger.db'}", {})
        return
    schema = PostgresSchema()
    options = f"-csearch_path={schema.name}"
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield Place(
            f"{PG_URL}{separator}options={options.replace('=', '%3D')}",
            {},
        )
    finally:
        schema.drop()


def token_of(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("token (shown once): ")]
    assert len(lines) == 1, output
    return lines[0].removeprefix("token (shown once): ")


def test_init_starts_a_ledger_whose_admin_token_works(place: Place):
    if place.url.startswith("sqlite"):
        assert not Path(place.url.removeprefix("sqlite:///")).exists()
    made = place.run(*INIT)
    assert made.returncode == 0, made.stderr
    assert "root: 510100 成都市 (市)" in made.stdout
    assert f"admin@510100 {ADMIN}" in made.stdout and "not a global admin" in made.stdout
    assert "will not be shown again" in made.stdout and "只显示这一次" in made.stdout
    token = token_of(made.stdout)
    assert token.startswith("lgr_") and len(token) > 40
    if place.url.startswith("sqlite"):
        assert Path(place.url.removeprefix("sqlite:///")).is_file()

    verified = place.run("verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.strip().splitlines()[-1].startswith("OK: 0 transactions")

    database = place.database()
    try:
        with database.read() as connection:
            # Only the token's hash is kept.
            hashes = connection.execute(select(t.users.c.token_hash)).scalars().all()
            assert hashes == [hashlib.sha256(token.encode()).hexdigest()]
            dump = repr(connection.execute(text("SELECT * FROM users")).all())
            assert token not in dump
            # The root is a 市 with its version 1 and log entry; the virtual locations exist.
            roots = connection.execute(
                select(t.locations.c.code, t.locations.c.name, t.locations.c.level).where(
                    t.locations.c.parent_id.is_(None), t.locations.c.physical.is_(True)
                )
            ).all()
            assert [tuple(r) for r in roots] == [("510100", "成都市", "city")]
            virtual = connection.execute(
                select(t.locations.c.code).where(t.locations.c.physical.is_(False))
            ).scalars()
            assert {"supplier", "in-transit", "distributed", "scrapped", "adjustment"} <= set(
                virtual
            )
            root_id = connection.execute(
                select(t.locations.c.id).where(t.locations.c.code == "510100")
            ).scalar_one()
            user_id = connection.execute(select(t.users.c.id)).scalar_one()
            v = t.reference_versions.c
            made = connection.execute(
                select(v.object_type, v.version).where(
                    ((v.object_type == "location") & (v.object_id == root_id))
                    | (v.object_type == "user")
                )
            ).all()
            assert sorted(map(tuple, made)) == [("location", 1), ("user", 1)]
            assert user_id == 1
            actions = connection.execute(
                select(t.operations_log.c.action).order_by(t.operations_log.c.id)
            ).scalars()
            assert list(actions) == ["location.add", "user.add"]

        with TestClient(app=create_app(database)) as client:
            me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200, me.text
            body = me.json()
            assert (body["role"], body["location_code"], body["label"]) == (
                "admin",
                "510100",
                ADMIN,
            )
            assert body["location_name"] == "成都市"
            # The city's admin works in its city: it adds a county under the root.
            county = client.post(
                "/api/v1/locations",
                json={
                    "code": "510121",
                    "name": "金堂县",
                    "level": "county",
                    "parent_code": "510100",
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            assert county.status_code == 201, county.text
            wrong = client.get("/api/v1/me", headers={"Authorization": "Bearer lgr_not-the-token"})
            assert wrong.status_code == 401
    finally:
        database.dispose()

    listed = place.run("users", "list")
    assert listed.returncode == 0 and "成都市(510100)" in listed.stdout
    assert "global" not in listed.stdout


def test_a_second_init_is_refused_and_changes_nothing(place: Place):
    first = place.run(*INIT)
    assert first.returncode == 0, first.stderr
    before = place.snapshot()
    again = place.run("init", "--root-code", "500100", "--root-name", "渝中样例市", "--admin", "x")
    assert again.returncode == 2 and again.stdout == ""
    assert again.stderr.count("\n") == 1
    assert again.stderr.startswith("error: ledger_not_empty: ")
    assert "成都市(510100)" in again.stderr and "1 个用户" in again.stderr
    same = place.run(*INIT)
    assert same.returncode == 2 and same.stderr.startswith("error: ledger_not_empty: ")
    assert place.snapshot() == before


def test_init_on_the_demo_is_refused_and_changes_nothing(place: Place):
    loaded = place.run("demo", "load")
    assert loaded.returncode == 0, loaded.stderr
    before = place.snapshot()
    refused = place.run(*INIT)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.startswith("error: ledger_not_empty: ")
    assert "张单据" in refused.stderr and "nothing changed" in refused.stderr
    assert place.snapshot() == before
    # `demo load` works as before on a new database: its documented admin token still works.
    database = place.database()
    try:
        with TestClient(app=create_app(database)) as client:
            me = client.get("/api/v1/me", headers={"Authorization": "Bearer lgr_demo-admin-510100"})
            assert me.status_code == 200 and me.json()["location_code"] == "510100"
    finally:
        database.dispose()


def test_a_ledger_with_only_a_user_is_not_empty(place: Place):
    assert place.run("db", "upgrade").returncode == 0
    made = place.run("users", "add", "--role", "admin", "--global", "--label", "省级系统管理员")
    assert made.returncode == 0, made.stderr
    before = place.snapshot()
    refused = place.run(*INIT)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: ledger_not_empty: ") and "1 个用户" in refused.stderr
    assert place.snapshot() == before


def test_an_upgraded_empty_schema_is_still_empty(place: Place):
    assert place.run("db", "upgrade").returncode == 0
    made = place.run(*INIT)
    assert made.returncode == 0, made.stderr
    assert place.run("verify").returncode == 0


@pytest.mark.parametrize(
    ("arguments", "code", "words"),
    [
        (("--root-code", "51 01", "--root-name", "成都市"), "invalid_field", "root_code"),
        (("--root-code", "", "--root-name", "成都市"), "invalid_field", "root_code 不能为空"),
        (("--root-code", "510100", "--root-name", "  "), "invalid_field", "root_name 不能为空"),
        (("--root-code", "510100", "--root-name", "市" * 201), "text_too_long", "root_name"),
        (("--root-code", "5" * 41, "--root-name", "成都市"), "text_too_long", "root_code"),
    ],
)
def test_bad_input_is_refused_before_a_file_is_made(tmp_path, arguments, code, words):
    where = tmp_path / "office" / "ledger.db"
    place = Place(f"sqlite:///{where}", {})
    refused = place.run("init", *arguments, "--admin", ADMIN)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert refused.stderr.startswith(f"error: {code}: ") and words in refused.stderr
    assert not where.exists()


def test_the_admin_label_is_required_and_bounded(tmp_path):
    where = tmp_path / "ledger.db"
    place = Place(f"sqlite:///{where}", {})
    missing = place.run("init", "--root-code", "510100", "--root-name", "成都市")
    assert missing.returncode == 2 and missing.stderr.startswith("error: invalid_usage: ")
    assert "--admin" in missing.stderr
    long = place.run(
        "init", "--root-code", "510100", "--root-name", "成都市", "--admin", "管" * 201
    )
    assert long.returncode == 2 and long.stderr.startswith("error: text_too_long: ")
    assert not where.exists()
