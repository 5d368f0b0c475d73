"""Starting a real office's ledger from nothing (`ledger init`).

On an empty database: the schema (with its virtual locations), the office's city as the root
location (through the same use case as `Ledger.add_location`, so it has its version 1 and its
operations-log entry) and the first admin user (`add_user`: an admin at the root, that is the
city's admin; see docs/roots.md). Its bearer token is returned once; only its hash is stored.

A ledger that already holds a root, a user or a transaction is refused with `ledger_not_empty`
before anything is written (a schema that exists is not even migrated).

The root and the admin are written in one database transaction (`add_user` joins it): both
or neither. Every input is checked before it, and the emptiness check runs again inside it,
under a lock on PostgreSQL, so that two `init`s at once make one root.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from ledger import commands as c
from ledger.db import emptiness
from ledger.db.engine import current_revision
from ledger.db.unit_of_work import Database
from ledger.db.users import User
from ledger.limits import name_length_max, user_label_length_max
from ledger.model import Location, LocationLevel, Role
from ledger.rules import Code, LedgerError, check_text
from ledger.services.checks import check_code
from ledger.services.ledger import run_command
from ledger.services.users import add_user
from ledger.settings import office_today

if TYPE_CHECKING:
    from sqlalchemy import Connection  # the read connection ledger.db hands out


class Started(NamedTuple):
    """What `start_ledger` made: the root, the first admin and its token (shown once)."""

    root: Location
    admin: User
    token: str
    revision: str | None


def check_start(root_code: str, root_name: str, admin_label: str) -> None:
    """The command line's input, checked before anything is created (not even a file)."""
    check_code(root_code, "root_code")
    check_text(root_name, "root_name", name_length_max)
    check_text(admin_label, "admin", user_label_length_max)


def refuse_unless_empty(connection: Connection) -> None:
    """Refuse (`ledger_not_empty`) a ledger holding a root, a user or a transaction."""
    roots, users, transactions = emptiness.held(connection)
    if not (roots or users or transactions):
        return
    held = []
    if roots:
        shown = "、".join(f"{name}({code})" for code, name in roots[:3])
        held.append(f"{len(roots)} 个市 {shown}{' …' if len(roots) > 3 else ''}")
    if users:
        held.append(f"{users} 个用户")
    if transactions:
        held.append(f"{transactions} 张单据")
    raise LedgerError(
        Code.ledger_not_empty,
        f"账本不是空的：已有 {'，'.join(held)}；ledger init 只用于新的空数据库，什么也没有改动 "
        f"(ledger not empty: {len(roots)} roots, {users} users, {transactions} transactions; "
        "nothing changed); 另一个市请由全局管理员新增，用户用 ledger users add",
        "LEDGER_DATABASE_URL",
    )


def start_ledger(
    database: Database,
    root_code: str,
    root_name: str,
    admin_label: str,
    clock: Callable[[], dt.date] = office_today,
) -> Started:
    """Create the schema, the root 市 `root_code` and its first admin on an empty database."""
    check_start(root_code, root_name, admin_label)
    if current_revision(database.engine) is not None:
        with database.read() as connection, connection.begin():
            refuse_unless_empty(connection)  # before a migration changes anything
    database.upgrade()
    today = clock()
    root = Location(root_code, root_name.strip(), LocationLevel.city)

    def work(store) -> tuple[Location, User, str]:
        if store.connection.dialect.name == "postgresql":
            # Two inits at once: the second waits here, then sees the first one's root.
            store.connection.exec_driver_sql("LOCK TABLE locations IN SHARE ROW EXCLUSIVE MODE")
        refuse_unless_empty(store.connection)
        made = run_command(store.acting(None, today), c.AddLocation(root), today)
        # joins this write: the root and its admin commit together or not at all
        admin, token = add_user(database, admin_label.strip(), Role.admin, made.code)
        return made, admin, token

    made, admin, token = database.write(work)
    return Started(made, admin, token, current_revision(database.engine))
