"""`ledger users …`: API users on the server's command line — add, list, change, reset a token,
revoke. The same use cases as `/api/v1/users` (ledger/services/users.py, user_changes.py);
the operations log names the command line (命令行) as who did it."""

from __future__ import annotations

import click

from ledger.cli.base import ledger_database, main, text_table
from ledger.model import Role, UserStatus

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
def users_add(
    roles: tuple[str, ...], location_code: str | None, label: str, global_admin: bool
) -> None:
    """Create a user and print its token once (only a hash is stored)."""
    from ledger.services.users import add_user

    database = ledger_database()
    user, token = add_user(database, label, roles, location_code, global_admin=global_admin)
    click.echo(f"user {user.id}: {held(user)}@{where(user)} {user.label}")
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
            UserStatus.revoked if u.revoked else UserStatus.active,
        )
        for u in list_users(database)
    ]
    click.echo(text_table(("id", "角色", "库点", "用途", "状态"), rows))


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


@users.command("revoke")
@click.argument("user_id", type=int)
def users_revoke(user_id: int) -> None:
    """Revoke a user's token: it stops working (a running service notices within two
    seconds). Refused for the last active admin of a city."""
    from ledger.services.users import revoke_user

    database = ledger_database()
    user = revoke_user(database, user_id)
    click.echo(f"user {user.id} ({held(user)}@{user.location_code}) revoked")
