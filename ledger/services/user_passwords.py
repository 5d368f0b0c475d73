"""A user made with its login name and password in one step, and passwords made for people.

`add_user_with_sign_in` adds the user (ledger.services.users.add_user) and gives it its login
name and password (ledger.services.web_sign_in.write_sign_in) in the same database
transaction: a name already taken, a malformed name or a short password adds nobody. Only an
argon2id hash of the password is kept; the log says `初始密码` (initial password), never the
password.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from ledger.db.unit_of_work import Database
from ledger.rules import Code, LedgerError
from ledger.services.users import User, add_user, stored_user
from ledger.services.web_sign_in import checked_login, password_hash, write_sign_in

# Letters and digits that cannot be mistaken for each other when read aloud or copied by hand
# (no 0/o, 1/l/i).
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
INITIAL_PASSWORD = "初始密码 (initial password)"


def new_password() -> str:
    """A random password to hand over once: three groups of four (about 59 bits), e.g.
    k7mq-2xrp-9tdw; the user changes it on its own page (/account)."""
    groups = ("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3))
    return "-".join(groups)


def add_user_with_sign_in(
    database: Database,
    label: str,
    roles: str | Sequence[str],
    location_code: str | None,
    login: str | None,
    password: str | None,
    actor: int | None = None,
    global_admin: bool = False,
) -> tuple[User, str]:
    """add_user, and in its transaction the user's login name and/or password (either may be
    None). A password needs a login name to be of use: refused (`invalid_field`) without one.
    Answers the user and its bearer token (shown once)."""
    if password is not None and login is None:
        raise LedgerError(
            Code.invalid_field,
            "设了密码还要设登录名，否则无法登录工作台 (a password needs a login name)",
            "login",
        )
    name = checked_login(login) if login is not None else None
    digest = password_hash(password) if password is not None else None

    def then(store, user_id: int) -> None:
        if name is None and digest is None:
            return
        user = stored_user(store, user_id)
        write_sign_in(store, user, name, digest, actor, INITIAL_PASSWORD)

    return add_user(
        database,
        label,
        roles,
        location_code,
        actor=actor,
        global_admin=global_admin,
        then=then,
    )
