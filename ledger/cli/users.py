"""`ledger users …`: users on the server's command line — add, list, change, reset a token,
set a login name and password for the web workspace, revoke. A password is never an argument
(it would stay in the shell's history and show in the process list): it is asked for with
--password-prompt (typed twice, not shown) or read from standard input with --password-stdin
(scripts), and never printed. The same use cases as `/api/v1/users` (ledger/services/users.py, user_changes.py);
the operations log names the command line (命令行) as who did it."""

from __future__ import annotations

import sys

import click

from ledger.cli.base import ledger_database, main, text_table
from ledger.model import Role, UserStatus
from ledger.rules import Code, LedgerError

ROLE_CHOICE = click.Choice([role.value for role in Role])
TOKEN_NOTE = (
    "此令牌只显示这一次，账本只保存它的哈希，请现在妥善保存 "
    "(this token will not be shown again: only its hash is stored)"
)


def held(user) -> str:
    """The user's roles, its first role first: clerk+approver."""
    return "+".join([user.role, *sorted(user.roles - {user.role})])


def where(user) -> str:
    return "every city" if user.is_global else user.location_code


def password_options(command):
    """--password-prompt and --password-stdin: how a command takes a password."""
    command = click.option(
        "--password-stdin",
        is_flag=True,
        help="Read the password from the first line of standard input (for scripts).",
    )(command)
    return click.option(
        "--password-prompt",
        is_flag=True,
        help="Ask for the password (typed twice, not shown).",
    )(command)


def asked_password(prompt: bool, stdin: bool) -> str | None:
    """The password the options ask for, or None when neither is given."""
    if prompt and stdin:
        raise LedgerError(
            Code.invalid_usage,
            "--password-prompt 和 --password-stdin 只能用一个 (use one of them)",
            "--password-prompt",
        )
    if prompt:
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return None


@main.group()
def users() -> None:
    """API users: one or more roles at a location, with a bearer token."""


@users.command("add")
@click.option(
    "--role",
    "roles",
    required=True,
    multiple=True,
    type=ROLE_CHOICE,
    help="A role; repeat it for a user holding several at its location "
    "(--role clerk --role approver; the first is its first role).",
)
@click.option("--location", "location_code", help="Location code, e.g. 510121.")
@click.option("--label", required=True, help="What the account is for, e.g. 金堂县仓库保管员.")
@click.option(
    "--global",
    "global_admin",
    is_flag=True,
    help="An admin of every city in the ledger (no --location); a city's admin reaches only "
    "its city.",
)
@click.option("--login", help="Its login name for the web workspace, e.g. clerk@510121.")
@password_options
def users_add(
    roles: tuple[str, ...],
    location_code: str | None,
    label: str,
    global_admin: bool,
    login: str | None,
    password_prompt: bool,
    password_stdin: bool,
) -> None:
    """Create a user and print its token once (only a hash is stored); with --login and a
    password it can also sign in to the web workspace."""
    from ledger.services.user_passwords import add_user_with_sign_in

    password = asked_password(password_prompt, password_stdin)
    database = ledger_database()
    user, token = add_user_with_sign_in(
        database, label, roles, location_code, login, password, global_admin=global_admin
    )
    click.echo(f"user {user.id}: {held(user)}@{where(user)} {user.label}")
    if user.login:
        click.echo(f"login: {user.login}" + (" (password set)" if password else ""))
    click.echo(f"token (shown once): {token}")


@users.command("list")
def users_list() -> None:
    """Every user, active or revoked."""
    from ledger.services.users import list_users

    database = ledger_database()
    rows = [
        (
            str(u.id),
            held(u),
            "全部市 (global)" if u.is_global else f"{u.location_name}({u.location_code})",
            u.label,
            u.login or "-",
            UserStatus.revoked if u.revoked else UserStatus.active,
        )
        for u in list_users(database)
    ]
    click.echo(text_table(("id", "角色", "库点", "用途", "登录名", "状态"), rows))


@users.command("change")
@click.argument("user_id", type=int)
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=ROLE_CHOICE,
    help="Every role the user is to hold (repeat it); left out: its roles stay.",
)
@click.option("--location", "location_code", help="The location it moves to (in its city).")
@click.option("--label", help="A new label (vouchers name the user by it).")
def users_change(
    user_id: int, roles: tuple[str, ...], location_code: str | None, label: str | None
) -> None:
    """Change a user's roles, location or label: a new dated version, logged (user.change)."""
    import msgspec

    from ledger.services.user_changes import UserChange, change_user
    from ledger.services.users import get_user

    database = ledger_database()
    before = get_user(database, user_id)
    change = UserChange(
        roles=roles or msgspec.UNSET,
        location_code=location_code if location_code is not None else msgspec.UNSET,
        label=label if label is not None else msgspec.UNSET,
    )
    user = change_user(database, user_id, change)
    outcome = "nothing changed" if user == before else "changed: a new version"
    click.echo(f"user {user.id}: {held(user)}@{where(user)} {user.label} ({outcome})")


@users.command("reset-token")
@click.argument("user_id", type=int)
def users_reset_token(user_id: int) -> None:
    """Give a user a new token, printed once; the old one stops working (a running service
    notices within two seconds)."""
    from ledger.services.user_changes import reset_token

    database = ledger_database()
    user, token = reset_token(database, user_id)
    click.echo(f"user {user.id}: {held(user)}@{where(user)} {user.label}: new token")
    click.echo(f"token (shown once): {token}")
    click.echo(TOKEN_NOTE)


@users.command("sign-in")
@click.argument("user_id", type=int)
@click.option("--login", help="Its login name for the web workspace, e.g. clerk@510121.")
@password_options
def users_sign_in(
    user_id: int, login: str | None, password_prompt: bool, password_stdin: bool
) -> None:
    """Set a user's login name and/or password for the web workspace. A new password ends the
    user's web sessions and lifts a lock after failed sign-ins; it is never printed or
    logged."""
    from ledger.services.web_sign_in import set_sign_in

    password = asked_password(password_prompt, password_stdin)
    if login is None and password is None:
        raise LedgerError(
            Code.invalid_usage,
            "请给出 --login，或 --password-prompt / --password-stdin (nothing to set)",
            "--login",
        )
    database = ledger_database()
    user = set_sign_in(database, user_id, login, password)
    said = " (new password set; its web sessions ended)" if password is not None else ""
    click.echo(f"user {user.id}: {held(user)}@{where(user)} login {user.login}{said}")


@users.command("revoke")
@click.argument("user_id", type=int)
def users_revoke(user_id: int) -> None:
    """Revoke a user's token: it stops working (a running service notices within two
    seconds). Refused for the last active admin of a city."""
    from ledger.services.users import revoke_user

    database = ledger_database()
    user = revoke_user(database, user_id)
    click.echo(f"user {user.id} ({held(user)}@{user.location_code}) revoked")
