"""`ledger users …` on SQLite and PostgreSQL: a user with several roles (--role repeated), a
change of roles, place or label, a token reset printed once, revocation, and a city's last
admin kept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from ledger.cli import run
from ledger.db import tables as t
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.rules import Code, LedgerError
from ledger.services.users import authenticate
from ledger.services.web_sign_in import sign_in
from tests.conftest import PG_URL, PostgresSchema
from tests.test_cli_errors import Result, invoke


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


# ---- login names and passwords for the web workspace ---------------------------------------------


def typed(url: str, text: str, *arguments: str) -> Result:
    """`ledger ARGUMENTS` with `text` on standard input (what is typed at a prompt)."""
    with CliRunner().isolation(input=text, env={"LEDGER_DATABASE_URL": url}) as (out, err, _):
        try:
            run(list(arguments))
            status = 0
        except SystemExit as done:
            status = done.code if isinstance(done.code, int) else 1
        return Result(status, out.getvalue().decode(), err.getvalue().decode())


def signs_in(url: str, login: str, password: str) -> bool:
    database = Database(make_engine(url))
    try:
        sign_in(database, login, password, "test")
        return True
    except LedgerError as error:
        assert error.code == Code.sign_in_failed
        return False
    finally:
        database.dispose()


def logged(url: str) -> str:
    database = Database(make_engine(url))
    try:
        with database.read() as connection:
            rows = connection.execute(select(t.operations_log.c.before, t.operations_log.c.after))
            return " ".join(str(row) for row in rows)
    finally:
        database.dispose()


def test_a_user_is_added_with_a_login_and_a_prompted_password_never_printed(url):
    added = typed(
        url,
        "typed-pass-1\ntyped-pass-1\n",
        "users", "add", "--role", "clerk", "--location", "510100", "--label", "市仓库保管员",
        "--login", "Clerk@510100", "--password-prompt",
    )  # fmt: skip
    assert added.status == 0, added.err
    assert "typed-pass-1" not in added.out + added.err
    assert "login: clerk@510100 (password set)" in added.out and token_of(added.out)
    assert signs_in(url, "clerk@510100", "typed-pass-1")
    assert "clerk@510100" in ledger(url, "users", "list").out
    assert "typed-pass-1" not in logged(url)


def test_a_prompted_password_must_be_typed_the_same_twice(url):
    added = typed(
        url,
        "typed-pass-1\nother-pass-2\ntyped-pass-1\ntyped-pass-1\n",
        "users", "add", "--role", "clerk", "--location", "510100", "--label", "x",
        "--login", "x@510100", "--password-prompt",
    )  # fmt: skip
    assert added.status == 0, added.err
    assert "typed-pass-1" not in added.out and "other-pass-2" not in added.out
    assert signs_in(url, "x@510100", "typed-pass-1")


def test_sign_in_sets_a_login_and_a_password_from_standard_input(url):
    named = ledger(url, "users", "sign-in", "1", "--login", "admin@510100")
    assert named.status == 0, named.err
    assert named.out == "user 1: admin@510100 login admin@510100\n"
    assert not signs_in(url, "admin@510100", "piped-pass-1")  # no password yet
    piped = typed(url, "piped-pass-1\n", "users", "sign-in", "1", "--password-stdin")
    assert piped.status == 0, piped.err
    assert "piped-pass-1" not in piped.out and "new password set" in piped.out
    assert signs_in(url, "admin@510100", "piped-pass-1")
    assert "piped-pass-1" not in logged(url)


@pytest.mark.parametrize(
    ("arguments", "text", "code"),
    [
        (("users", "sign-in", "1"), "", "invalid_usage"),
        (("users", "sign-in", "1", "--password-prompt", "--password-stdin"), "", "invalid_usage"),
        (("users", "sign-in", "1", "--login", "张三"), "", "invalid_field"),
        (("users", "sign-in", "1", "--login", "a@b", "--password-stdin"), "short\n", "password_too_short"),
        (("users", "add", "--role", "clerk", "--location", "510100", "--label", "x",
          "--password-stdin"), "long-enough-1\n", "invalid_field"),
    ],
)  # fmt: skip
def test_a_refused_login_or_password_changes_nothing(url, arguments, text, code):
    refused = typed(url, text, *arguments)
    assert refused.status == 2 and refused.error.startswith(f"error: {code}: ")
    assert "long-enough-1" not in refused.err and "short" not in refused.out
    listed = ledger(url, "users", "list").out
    assert "a@b" not in listed and len(listed.strip().splitlines()) == 2  # the header, user 1
