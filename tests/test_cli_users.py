"""`ledger users …` on SQLite and PostgreSQL: a user with several roles (--role repeated), a
change of roles, place or label, a token reset printed once, revocation, and a city's last
admin kept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from ledger.db import tables as t
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.services.users import authenticate
from tests.conftest import PG_URL, PostgresSchema
from tests.test_cli_errors import invoke


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, tmp_path) -> Iterator[str]:
    """An office started with `ledger init`: 成都市 and its admin (user 1)."""
    if request.param == "sqlite":
        found = f"sqlite:///{tmp_path / 'ledger.db'}"
        schema = None
    else:
        schema = PostgresSchema()
        separator = "&" if "?" in PG_URL else "?"
        found = f"{PG_URL}{separator}options=-csearch_path%3D{schema.name}"
    try:
        started = ledger(found, "init", "--root-code", "510100", "--root-name", "成都市")
        assert started.status == 0, started.err
        yield found
    finally:
        if schema is not None:
            schema.drop()


def ledger(url: str, *arguments: str):
    if arguments[0] == "init":
        arguments = (*arguments, "--admin", "市系统管理员")
    return invoke(*arguments, env={"LEDGER_DATABASE_URL": url})


def token_of(output: str) -> str:
    (line,) = [line for line in output.splitlines() if line.startswith("token (shown once): ")]
    return line.removeprefix("token (shown once): ")


def test_users_with_several_roles_are_added_changed_re_keyed_and_revoked(url):
    added = ledger(
        url, "users", "add", "--role", "clerk", "--role", "approver", "--location", "510100",
        "--label", "市仓库保管员兼审批",
    )  # fmt: skip
    assert added.status == 0, added.err
    assert added.out.startswith("user 2: clerk+approver@510100 市仓库保管员兼审批\n")
    old = token_of(added.out)
    listed = ledger(url, "users", "list")
    assert "clerk+approver" in listed.out and "市仓库保管员兼审批" in listed.out

    changed = ledger(url, "users", "change", "2", "--role", "approver", "--label", "市审批人")
    assert changed.status == 0, changed.err
    assert changed.out == "user 2: approver@510100 市审批人 (changed: a new version)\n"
    same = ledger(url, "users", "change", "2", "--role", "approver")
    assert same.out == "user 2: approver@510100 市审批人 (nothing changed)\n"

    reset = ledger(url, "users", "reset-token", "2")
    assert reset.status == 0, reset.err
    new = token_of(reset.out)
    database = Database(make_engine(url))
    try:
        assert authenticate(database, old) is None
        assert authenticate(database, new).label == "市审批人"
        with database.read() as connection:
            hashes = connection.execute(select(t.users.c.token_hash)).scalars().all()
        assert new not in hashes and old not in hashes
    finally:
        database.dispose()

    for arguments in (("revoke", "1"), ("change", "1", "--role", "clerk")):
        last = ledger(url, "users", *arguments)
        assert last.status == 2 and last.error.startswith("error: last_admin: ")
        assert "成都市" in last.error
    assert ledger(url, "users", "revoke", "2").out == "user 2 (approver@510100) revoked\n"
    again = ledger(url, "users", "change", "2", "--label", "复用")
    assert again.status == 2 and again.error.startswith("error: user_revoked: ")
    nobody = ledger(url, "users", "reset-token", "99")
    assert nobody.status == 2 and nobody.error.startswith("error: unknown_user: ")
    level = ledger(
        url, "users", "add", "--role", "requester", "--location", "510100", "--label", "x"
    )
    assert level.status == 2 and level.error.startswith("error: role_not_allowed_at_level: ")
    verified = ledger(url, "verify")
    assert verified.status == 0, verified.out + verified.err
