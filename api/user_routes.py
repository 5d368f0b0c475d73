"""Users over HTTP: who am I (`/me`, anybody) and changing one's own password
(`/me/password`); admins add, list, change, re-key and revoke users and set their login names
and passwords without a shell.

A city's admin (an admin at any of its locations) manages the users of its city only: another
city's user, or a global admin, is refused with 403 naming nothing of it (as every other route
treats another root, docs/roots.md); it cannot make a global admin. A global admin manages
every user. A token is answered once, on creation and on a reset; only its hash is stored, so
a replayed answer (the same `Idempotency-Key`) names the user but holds `token: null` — when
the first answer was lost, reset the token. See docs/users.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, patch, post, put
from litestar.datastructures import State
from litestar.openapi.spec import OpenAPIResponse, Operation
from litestar.params import JSONBody, Parameter, QueryParameter
from litestar.types import ControllerRouterHandler

from api.auth import forget_user
from api.common import IdempotencyKey, Limit, Offset, idempotent, services_of
from api.policy import require_manages, require_may_add_user, roles, scope_path
from api.schemas import Me, Page, page
from ledger.limits import (
    code_length_max,
    integer_magnitude_max,
    role_length_max,
    user_label_length_max,
)
from ledger.rules import Code, LedgerError
from ledger.services.lookups import UserFilter
from ledger.services.user_changes import UserChange, change_user, reset_token
from ledger.services.user_passwords import add_user_with_sign_in
from ledger.services.users import ROLES, User, find_users, get_user, revoke_user
from ledger.services.web_sign_in import change_own_password, set_sign_in

UserId = Annotated[int, Parameter(ge=1, le=integer_magnitude_max, description="user id")]
LocationCode = Annotated[
    str | None, QueryParameter(max_length=code_length_max, description="a location's code")
]


class UserOut(msgspec.Struct, frozen=True):
    """A user. role: its first role; roles: every role it holds at its location, in the order
    admin, clerk, requester, approver, auditor. location_code / location_name: null for a
    global admin (it belongs to no city). active: false once revoked."""

    id: int
    label: str
    role: str
    roles: tuple[str, ...]
    location_code: str | None
    location_name: str | None
    global_admin: bool
    active: bool
    login: str | None = None


class UserCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """label: what the account is for (a post, not a person: 金堂县仓库保管员). roles: one or
    more of admin, clerk, requester, approver, auditor (the first is its first role), each
    allowed at the location's level. global_admin: an admin of every city (a global admin
    only; then no location_code and roles ["admin"]). login: the name it signs in to the web
    workspace with (lower case letters, digits and . _ @ -, e.g. clerk@510121); password: its
    first password (8 to 200 characters; needs a login; never answered or logged)."""

    label: Annotated[str, msgspec.Meta(max_length=user_label_length_max)]
    roles: Annotated[tuple[str, ...], msgspec.Meta(min_length=1, max_length=len(ROLES))]
    location_code: str | None = None
    global_admin: bool = False
    login: str | None = None
    password: str | None = None


class SignInChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A user's login name and/or a new password; a field left out keeps its value. A new
    password ends the user's web sessions and lifts a lock; it is never answered or logged."""

    login: str | None = None
    password: str | None = None


class PasswordChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Your own new password (`password`), with your current one (`current_password`; left
    out only by a user without a password yet, with its token)."""

    password: str
    current_password: str = ""


class UserWithToken(msgspec.Struct, frozen=True):
    """A user and its bearer token, shown this once (only its hash is stored). token: null in
    an answer replayed for a retry with the same Idempotency-Key (reset it if it was lost)."""

    user: UserOut
    token: str | None


def user_out(user: User) -> UserOut:
    return UserOut(
        user.id,
        user.label,
        user.role,
        tuple(role for role in ROLES if user.has(role)),
        None if user.is_global else user.location_code,
        None if user.is_global else user.location_name,
        user.is_global,
        not user.revoked,
        user.login,
    )


def without_secret(data: UserCreate) -> UserCreate:
    """What the exactly-once digest of a new user's request holds: whether a password was
    given, not the password (a digest of it could be tried against guesses)."""
    given = None if data.password is None else "(given)"
    return msgspec.structs.replace(data, password=given)


def without_token(answer: UserWithToken) -> UserWithToken:
    return UserWithToken(answer.user, None)


RESET = (
    "The old token stops working at once in this service (other service processes: within "
    "two seconds); the new one is answered once."
)


@get("/me", sync_to_thread=False, summary="The authenticated user")
def me(request: Request) -> Me:
    user: User = request.user
    return Me(
        user.id,
        user.label,
        user.role,
        user.location_code,
        user.location_name,
        tuple(role for role in ROLES if user.has(role)),
        user.is_global,
    )


@dataclass
class _NoContent(Operation):
    """The operation of a route answering 204 with nothing: its success has no body, so no
    media type (Litestar documents `Response[None]` as JSON `null`)."""

    def __post_init__(self) -> None:
        for status, response in (self.responses or {}).items():
            if status == "204" and isinstance(response, OpenAPIResponse):
                response.content = None


@post(
    "/me/password",
    sync_to_thread=True,
    status_code=204,
    operation_class=_NoContent,
    summary="Change your own password",
    description="Give your current password and the new one. A wrong current password is "
    "refused with 403 `password_wrong` and counts as a failed sign-in (5 in a row lock the "
    "login name for 15 minutes). The new password ends every web session of yours. A user "
    "without a password yet (an API client with its token) leaves `current_password` out.",
)
def change_my_password(
    request: Request,
    state: State,
    data: JSONBody[PasswordChange],
    idempotency_key: IdempotencyKey = None,
) -> Response[None]:
    user: User = request.user
    client = request.client.host if request.client else "unknown"

    def work(_: str | None) -> None:
        change_own_password(
            services_of(state).database, user.id, data.current_password, data.password, client
        )

    # Honoured like every POST's key; the passwords are kept out of its digest (which is
    # stored): a retry is told apart by whether it gives a current password, not by them.
    asked = {"current_password": data.current_password is not None}
    return idempotent(request, state, idempotency_key, asked, work, status_code=204)


class UserController(Controller):
    path = "/users"
    tags = ("users",)
    guards = (roles(),)  # admins only

    @get("/", sync_to_thread=True, summary="Users of your city (a global admin: every user)")
    def list_users(
        self,
        request: Request,
        state: State,
        location: LocationCode = None,
        under: LocationCode = None,
        role: Annotated[str | None, QueryParameter(max_length=role_length_max)] = None,
        active: Annotated[bool | None, QueryParameter(description="active or revoked")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[UserOut]:
        admin: User = request.user
        services = services_of(state)
        if role is not None and role not in ROLES:
            raise LedgerError(
                Code.unknown_role, f"角色必须是 {', '.join(ROLES)} 之一 (unknown role)", "role"
            )
        where = UserFilter(scope=scope_path(admin), role=role, active=active)
        if location is not None:
            entry = services.visible_location(admin, location, "location")
            where = msgspec.structs.replace(where, location_id=entry.id)
        if under is not None:
            entry = services.visible_location(admin, under, "under")
            where = msgspec.structs.replace(where, under=entry.path)
        rows = find_users(services.database, where, limit + 1, offset)
        return page([user_out(user) for user in rows], limit, offset)

    @get("/{user_id:int}", sync_to_thread=True, summary="One user")
    def one(self, request: Request, state: State, user_id: UserId) -> UserOut:
        user = get_user(services_of(state).database, user_id)
        if user is None:
            raise LedgerError(
                Code.unknown_user, f"没有编号为 {user_id} 的用户 (unknown user)", "id"
            )
        require_manages(request.user, user)
        return user_out(user)

    @post(
        "/",
        sync_to_thread=True,
        summary="Add a user; its token is answered once",
        description="Only a global admin adds a global admin. A retry with the same "
        "Idempotency-Key adds nobody and answers the same user with `token: null`.",
    )
    def create(
        self,
        request: Request,
        state: State,
        data: JSONBody[UserCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[UserWithToken]:
        admin: User = request.user
        services = services_of(state)
        require_may_add_user(admin, data.global_admin, data.location_code, services.location)

        def work(_: str | None) -> UserWithToken:
            user, token = add_user_with_sign_in(
                services.database,
                data.label,
                data.roles,
                data.location_code,
                data.login,
                data.password,
                actor=admin.id,
                global_admin=data.global_admin,
            )
            return UserWithToken(user_out(user), token)

        body = without_secret(data)
        return idempotent(request, state, idempotency_key, body, work, 201, kept=without_token)

    @put(
        "/{user_id:int}/sign-in",
        sync_to_thread=True,
        summary="Set a user's login name and/or password",
        description="For the web workspace. A new password ends the user's web sessions and "
        "lifts a lock after failed sign-ins; it is never answered or logged (`user.sign_in` "
        "says it was reset). Refused: `login_taken` (409), `invalid_field` (a malformed login "
        "name), `password_too_short`, `user_revoked`.",
    )
    def change_sign_in(
        self, request: Request, state: State, user_id: UserId, data: JSONBody[SignInChange]
    ) -> UserOut:
        admin: User = request.user
        if data.login is None and data.password is None:
            raise LedgerError(
                Code.invalid_field, "请给出登录名或新密码 (login or password required)", "login"
            )
        changed = set_sign_in(
            services_of(state).database,
            user_id,
            data.login,
            data.password,
            actor=admin.id,
            authorize=lambda user: require_manages(admin, user),
        )
        return user_out(changed)

    @patch(
        "/{user_id:int}",
        sync_to_thread=True,
        summary="Change a user's roles, location or label (a new version)",
        description="Writes the user's next version and a `user.change` log entry; a change "
        "that changes nothing writes nothing. Refused for a revoked user (`user_revoked`) and "
        "when the city would be left without an active admin (`last_admin`).",
    )
    def change(
        self, request: Request, state: State, user_id: UserId, data: JSONBody[UserChange]
    ) -> UserOut:
        admin: User = request.user
        services = services_of(state)
        changed = change_user(
            services.database,
            user_id,
            data,
            actor=admin.id,
            authorize=lambda user, moves_to: require_manages(admin, user, moves_to),
        )
        forget_user(state, user_id)
        return user_out(changed)

    @post(
        "/{user_id:int}/token",
        sync_to_thread=True,
        status_code=200,
        summary="Reset a user's token; the new one is answered once",
        description=RESET,
    )
    def reset(
        self,
        request: Request,
        state: State,
        user_id: UserId,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[UserWithToken]:
        admin: User = request.user
        services = services_of(state)

        def work(_: str | None) -> UserWithToken:
            user, token = reset_token(
                services.database,
                user_id,
                actor=admin.id,
                authorize=lambda user: require_manages(admin, user),
            )
            return UserWithToken(user_out(user), token)

        try:
            return idempotent(request, state, idempotency_key, None, work, 200, without_token)
        finally:
            forget_user(state, user_id)

    @post(
        "/{user_id:int}/revoke",
        sync_to_thread=True,
        status_code=200,
        summary="Revoke a user: its token stops working",
        description="Refused for the last active admin of a city (`last_admin`). The token "
        "stops working at once in this service (other service processes: within two seconds).",
    )
    def revoke(
        self,
        request: Request,
        state: State,
        user_id: UserId,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[UserOut]:
        admin: User = request.user
        services = services_of(state)

        def work(_: str | None) -> UserOut:
            user = revoke_user(
                services.database,
                user_id,
                actor=admin.id,
                authorize=lambda user: require_manages(admin, user),
            )
            return user_out(user)

        try:
            return idempotent(request, state, idempotency_key, None, work, 200)
        finally:
            forget_user(state, user_id)


ROUTES: list[ControllerRouterHandler] = [me, change_my_password, UserController]
