"""Signing in to the web workspace (工作台) with a login name and a password.

A user gets a login name (e.g. clerk@510121) and a password from an admin (`set_sign_in`);
only an argon2id hash of the password is kept (argon2-cffi). Signing in opens a server-side
session: the browser holds a random cookie, the database a SHA-256 of it with the session's
CSRF token and when it was last seen; a session ends on sign-out, after
`LEDGER_SESSION_IDLE_MINUTES` without a request, or when the user is revoked or its password
reset. `sign_in_attempts_max` failures in a row lock the name for `sign_in_lock_minutes`
(logged as `sign_in.locked`); every failure is logged as `sign_in.failed` with the name tried.
Bearer tokens for API clients are unchanged (ledger.services.users).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import secrets
from functools import lru_cache

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ledger.db import oplog
from ledger.db import web_sessions as stored
from ledger.db.unit_of_work import Database
from ledger.db.users import User
from ledger.limits import (
    login_length_max,
    password_length_max,
    password_length_min,
    session_touch_seconds,
    sign_in_attempts_max,
    sign_in_lock_minutes,
)
from ledger.rules import Code, LedgerError
from ledger.services.users import stored_user
from ledger.settings import utc_now

LOGIN = re.compile(r"[a-z0-9][a-z0-9._@-]*")
_hasher = PasswordHasher()  # argon2id, RFC 9106's second recommended parameters


class Session(msgspec.Struct, frozen=True):
    """A signed-in browser: its user, the CSRF token its forms carry, its id."""

    id: int
    user: User
    csrf_token: str


class SignedIn(msgspec.Struct, frozen=True):
    """What signing in gives: the session and the cookie to set (shown once, never stored)."""

    session: Session
    cookie: str


def cookie_digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("utf-8", "replace")).hexdigest()


def checked_login(login: str) -> str:
    """A login name as kept: lower case, letters, digits and . _ @ - (clerk@510121)."""
    name = login.strip().lower()
    if not name or len(name) > login_length_max or LOGIN.fullmatch(name) is None:
        raise LedgerError(
            Code.invalid_field,
            f"登录名只能用字母、数字和 . _ @ -，最多 {login_length_max} 个字符，"
            f"如 clerk@510121 (invalid login name)",
            "login",
        )
    return name


def check_password(password: str) -> None:
    if len(password) < password_length_min:
        raise LedgerError(
            Code.password_too_short,
            f"密码至少 {password_length_min} 个字符 (the password is too short)",
            "password",
        )
    if len(password) > password_length_max:
        raise LedgerError(
            Code.text_too_long,
            f"密码最多 {password_length_max} 个字符 (the password is too long)",
            "password",
        )


def password_hash(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def demo_password_hash(password: str) -> str:
    """The demo's users share one hash of the published demo password (made once a process)."""
    return password_hash(password)


def set_sign_in(
    database: Database,
    user_id: int,
    login: str | None,
    password: str | None,
    actor: int | None = None,
    authorize=None,
    hashed: str | None = None,
) -> User:
    """Give a user a login name and/or a new password (an admin resetting one). A new password
    ends the user's open sessions and lifts a lock. Logged as `user.sign_in` (never the
    password). hashed: a hash made before (the demo's); authorize(user): see `stored_user`."""
    name = checked_login(login) if login is not None else None
    digest = hashed or (password_hash(password) if password is not None else None)

    def work(store) -> None:
        user = stored_user(store, user_id, authorize)
        write_sign_in(store, user, name, digest, actor)

    database.write(work)
    found = database.lookup(lambda store: stored.active_user(store.connection, user_id))
    assert found is not None
    return found


PASSWORD_RESET = "重置 (reset)"  # what the log says of a password an admin sets


def write_sign_in(
    store,
    user: User,
    name: str | None,
    digest: str | None,
    actor: int | None,
    note: str = PASSWORD_RESET,
) -> None:
    """Inside a write: give `user` the (checked) login name and/or password hash, end its
    sessions and lift its lock on a new password, and log `user.sign_in` (`note` says what
    happened to the password; never the password or its hash). Refused with `login_taken`
    when another user holds the name (a revoked one keeps its name)."""
    values: dict = {}
    if name is not None and name != user.login:
        holder = stored.login_holder(store.connection, name)
        if holder is not None and holder != user.id:
            raise LedgerError(
                Code.login_taken, f"登录名 {name} 已有人用 (login name taken)", "login"
            )
        values["login"] = name
    if digest is not None:
        values.update(password_hash=digest, failed_sign_ins=0, locked_until=None)
        stored.end_sessions_of(store.connection, user.id, utc_now())
    if not values:
        return
    stored.set_sign_in_fields(store.connection, user.id, **values)
    after: dict = {"login": values.get("login", user.login)}
    if digest is not None:
        after["password"] = note
    oplog.record(
        store,
        "user.sign_in",
        "user",
        str(user.id),
        user_id=actor,
        before={"login": user.login},
        after=after,
        location_path=None if user.is_global else user.location_path,
    )


_DUMMY_HASH = None


def _spend_as_much_as_a_check(password: str) -> None:
    """An unknown name costs what a wrong password does: no timing tells which names exist."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash(secrets.token_hex(8))
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY_HASH, password)


def sign_in(database: Database, login: str, password: str, client: str) -> SignedIn:
    """Check the name and password and open a session; refused with `sign_in_failed` (the
    same answer whatever was wrong) or `sign_in_locked`."""
    name = login.strip().lower()[: login_length_max + 1]
    password = password[: password_length_max + 1]
    found = database.lookup(lambda store: stored.credentials(store.connection, name))
    now = utc_now()
    if found is not None and found.locked_until is not None and found.locked_until > now:
        raise _locked(found.locked_until)
    good = False
    if found is None or found.password_hash is None or found.revoked:
        _spend_as_much_as_a_check(password)
    else:
        try:
            good = _hasher.verify(found.password_hash, password)
        except (VerificationError, InvalidHashError):
            good = False
    if not good:
        _failed(database, name, client, found)
    assert found is not None
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)

    def work(store) -> int:
        stored.set_sign_in_fields(store.connection, found.user_id, failed_sign_ins=0)
        session_id = stored.insert_session(
            store.connection, cookie_digest(cookie), found.user_id, csrf, client
        )
        user = stored.active_user(store.connection, found.user_id)
        oplog.record(
            store,
            "sign_in",
            "user",
            str(found.user_id),
            user_id=found.user_id,
            after={"client": client},
            location_path=None if user is None or user.is_global else user.location_path,
        )
        return session_id

    session_id = database.write(work)
    user = database.lookup(lambda store: stored.active_user(store.connection, found.user_id))
    assert user is not None
    return SignedIn(Session(session_id, user, csrf), cookie)


def _failed(database: Database, name: str, client: str, found) -> None:
    """Count the failure against the name (locking it at the limit), log it, refuse."""
    locked_until = None

    def work(store) -> None:
        nonlocal locked_until
        if found is not None and not found.revoked:
            current = stored.credentials(store.connection, name)
            failures = (current.failed_sign_ins if current else 0) + 1
            values: dict = {"failed_sign_ins": failures}
            if failures >= sign_in_attempts_max:
                locked_until = utc_now() + dt.timedelta(minutes=sign_in_lock_minutes)
                values = {"failed_sign_ins": 0, "locked_until": locked_until}
            stored.set_sign_in_fields(store.connection, found.user_id, **values)
        oplog.record(
            store,
            "sign_in.locked" if locked_until else "sign_in.failed",
            "login",
            name[:login_length_max] or "(空)",
            user_id=None,
            actor=f"登录名 {name[:login_length_max]}",
            after={
                "client": client,
                **({"locked_until": locked_until.isoformat()} if locked_until else {}),
            },
        )

    database.write(work)
    if locked_until is not None:
        raise _locked(locked_until)
    raise LedgerError(
        Code.sign_in_failed,
        f"登录名或密码不对；连续 {sign_in_attempts_max} 次失败会锁定 {sign_in_lock_minutes} 分钟 "
        "(wrong login name or password)",
        "password",
    )


def _locked(until: dt.datetime) -> LedgerError:
    from ledger.settings import office_zone

    local = until.astimezone(office_zone()).strftime("%H:%M")
    return LedgerError(
        Code.sign_in_locked,
        f"连续登录失败次数过多，已锁定到 {local}；也可请管理员重置密码 (locked after repeated "
        "failures)",
        "login",
    )


def session_of(database: Database, cookie: str, idle_minutes: int) -> Session | None:
    """The open session this cookie belongs to, or None (unknown, ended, idle too long, the
    user revoked). Records that it was seen (at most every `session_touch_seconds`)."""
    if not cookie or len(cookie) > 100:
        return None
    digest = cookie_digest(cookie)
    now = utc_now()

    def read(store):
        row = stored.open_session(store.connection, digest)
        if row is None:
            return None, None
        return row, stored.active_user(store.connection, row.user_id)

    row, user = database.lookup(read)
    if row is None:
        return None
    if user is None or now - row.last_seen_at > dt.timedelta(minutes=idle_minutes):
        database.write(lambda store: stored.end_session(store.connection, row.id, now))
        return None
    if now - row.last_seen_at > dt.timedelta(seconds=session_touch_seconds):
        database.write(lambda store: stored.touch_session(store.connection, row.id, now))
    return Session(row.id, user, row.csrf_token)


def sign_out(database: Database, session: Session) -> None:
    def work(store) -> None:
        if stored.end_session(store.connection, session.id, utc_now()):
            oplog.record(
                store,
                "sign_out",
                "user",
                str(session.user.id),
                user_id=session.user.id,
                location_path=None if session.user.is_global else session.user.location_path,
            )

    database.write(work)


PASSWORD_CHANGED = "本人修改 (changed by the user)"  # what the log says of a user's own change


def check_own_password(database: Database, user_id: int, current: str, client: str) -> None:
    """The user's current password, checked before it changes its own: a wrong one is refused
    with `password_wrong` and counts as a failed sign-in of its login name (logged;
    `sign_in_attempts_max` in a row lock the name: `sign_in_locked`). A user without a password
    yet (only an API token) gives "" as its current one. Call it outside any transaction that
    a refusal rolls back (a form's `once`), or the count is lost with it."""
    current = current[: password_length_max + 1]
    user = database.lookup(lambda store: stored.active_user(store.connection, user_id))
    if user is None:
        raise LedgerError(Code.unknown_user, f"没有编号为 {user_id} 的用户 (unknown user)", "id")
    login = user.login
    found = (
        database.lookup(lambda store: stored.credentials(store.connection, login))
        if login
        else None
    )
    if found is None or found.password_hash is None:
        if current == "":  # its first one, by the holder of its token (no session without one)
            return
        raise LedgerError(
            Code.password_wrong,
            "您还没有登录密码：第一次设置时当前密码留空，或请管理员设置 (no password is set yet)",
            "current_password",
        )
    assert login is not None  # credentials are looked up by it
    if found.locked_until is not None and found.locked_until > utc_now():
        raise _locked(found.locked_until)
    good = False
    with contextlib.suppress(VerificationError, InvalidHashError):
        good = _hasher.verify(found.password_hash, current)
    if good:
        return
    try:
        _failed(database, login, client, found)
    except LedgerError as error:
        if error.code != Code.sign_in_failed:
            raise
    raise LedgerError(
        Code.password_wrong,
        f"当前密码不对；连续 {sign_in_attempts_max} 次输错会锁定 {sign_in_lock_minutes} 分钟 "
        "(the current password is wrong)",
        "current_password",
    )


def change_own_password(
    database: Database, user_id: int, current: str, new: str, client: str
) -> None:
    """A signed-in user changes its own password, giving its current one (`check_own_password`).
    The new password ends every session of the user, this one too (a browser signs in again
    with it); logged as `user.sign_in` by the user itself (never the password)."""
    digest = password_hash(new)  # the new one's form first: nothing counted for a typo there
    check_own_password(database, user_id, current, client)

    def work(store) -> None:
        write_sign_in(store, stored_user(store, user_id), None, digest, user_id, PASSWORD_CHANGED)

    database.write(work)
