"""Storage of web sign-ins: a user's login name and password hash, its failed attempts and
lock, and the sessions of signed-in browsers (`web_sessions`, only a hash of each cookie)."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import Connection, insert, select, update

from ledger.db import tables as t
from ledger.db.users import User, _users_query, _with_roles


class Credentials(msgspec.Struct, frozen=True):
    """What signing in checks: the user's id, password hash (None: no password yet), failed
    attempts in a row, lock, and whether it is revoked."""

    user_id: int
    password_hash: str | None
    failed_sign_ins: int
    locked_until: dt.datetime | None
    revoked: bool


class SessionRow(msgspec.Struct, frozen=True):
    id: int
    user_id: int
    csrf_token: str
    last_seen_at: dt.datetime


def credentials(connection: Connection, login: str) -> Credentials | None:
    u = t.users.c
    row = connection.execute(
        select(u.id, u.password_hash, u.failed_sign_ins, u.locked_until, u.revoked_at).where(
            u.login == login
        )
    ).first()
    if row is None:
        return None
    return Credentials(row[0], row[1], row[2], _aware(row[3]), row[4] is not None)


def login_holder(connection: Connection, login: str) -> int | None:
    """The id of the user holding this login name, if any (revoked ones keep theirs)."""
    return connection.execute(select(t.users.c.id).where(t.users.c.login == login)).scalar()


def set_sign_in_fields(connection: Connection, user_id: int, **values) -> None:
    """Write login, password_hash, failed_sign_ins or locked_until."""
    connection.execute(update(t.users).where(t.users.c.id == user_id).values(**values))


def insert_session(
    connection: Connection, token_hash: str, user_id: int, csrf_token: str, client: str
) -> int:
    now = dt.datetime.now(dt.UTC)
    return connection.execute(
        insert(t.web_sessions).returning(t.web_sessions.c.id),
        {
            "token_hash": token_hash,
            "user_id": user_id,
            "csrf_token": csrf_token,
            "client": client[:100],
            "created_at": now,
            "last_seen_at": now,
            "ended_at": None,
        },
    ).scalar_one()


def open_session(connection: Connection, token_hash: str) -> SessionRow | None:
    """The session of this cookie if it has not ended."""
    s = t.web_sessions.c
    row = connection.execute(
        select(s.id, s.user_id, s.csrf_token, s.last_seen_at).where(
            s.token_hash == token_hash, s.ended_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    seen = row[3] if row[3].tzinfo else row[3].replace(tzinfo=dt.UTC)
    return SessionRow(row[0], row[1], row[2], seen)


def active_user(connection: Connection, user_id: int) -> User | None:
    rows = connection.execute(
        _users_query().where(t.users.c.id == user_id, t.users.c.revoked_at.is_(None))
    )
    found = _with_roles(connection, rows)
    return found[0] if found else None


def touch_session(connection: Connection, session_id: int, at: dt.datetime) -> None:
    s = t.web_sessions.c
    connection.execute(
        update(t.web_sessions)
        .where(s.id == session_id, s.ended_at.is_(None))
        .values(last_seen_at=at)
    )


def end_session(connection: Connection, session_id: int, at: dt.datetime) -> bool:
    s = t.web_sessions.c
    result = connection.execute(
        update(t.web_sessions).where(s.id == session_id, s.ended_at.is_(None)).values(ended_at=at)
    )
    return result.rowcount > 0


def end_sessions_of(connection: Connection, user_id: int, at: dt.datetime) -> int:
    """End every open session of a user (revoked, password reset)."""
    s = t.web_sessions.c
    result = connection.execute(
        update(t.web_sessions).where(s.user_id == user_id, s.ended_at.is_(None)).values(ended_at=at)
    )
    return result.rowcount


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; they were written in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value
