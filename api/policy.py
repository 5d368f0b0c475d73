"""Who may do what: the roles guard and every rule of reach, in one place.

Roles: admin (everything in its city), clerk (movements at its location), requester (its own
requests and receipts addressed to it), approver (requests from its subtree), auditor
(read-only across its subtree). A user may hold several roles at its location (a county clerk
who also approves) and may then do what each of them may; a user holding admin is an admin.
Everybody reads only inside their subtree; virtual locations are visible to users at the top
of the tree.

Roots are separate. Each root location (a city: a location without parent) is its own ledger,
even when several share one database: nobody's subtree crosses from one root into another. An
admin at any location of a city is that city's admin: its reach is the city's whole subtree,
never another city's. A **global admin** — an `admin` user made with `ledger users add --role
admin --global` (stored at a virtual location, none of the cities) — reaches every root. The
virtual locations (supplier, in-transit, distributed, scrapped, adjustment) are shared by every
root: their names are visible at the top of each tree, but a virtual account's balance holds
every root's movements, so only a global admin reads it as stored; everybody else reads their
own root's share of it (ledger/services/balances.py).

The route handlers call these as guards (`roles`) or as one-line checks before the use case;
a refusal is `Forbidden` (403). `locate` arguments find a location by code (its `.path`,
`.physical` and `.location.name` are read): `Services.location`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from api.errors import Forbidden
from ledger.model import Role, ScanPurpose
from ledger.rules import LedgerError
from ledger.services.users import ROLE_NAMES, User

Locate = Callable[[str], Any]

OUTSIDE_ROOT = "不在您所在市的账内 (outside your root)"


def roles(*allowed: Role):
    """A guard: only users holding one of these roles (admin always) reach the handler."""

    # async: Litestar runs a sync guard in a worker thread, a hop per request for a few checks
    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        user: User = connection.user
        if not user.has(Role.admin) and not any(user.has(role) for role in allowed):
            held = "、".join(ROLE_NAMES[role] for role in sorted(user.roles))
            wanted = dict.fromkeys((*allowed, Role.admin))  # admin named once
            needed = "或".join(ROLE_NAMES[role] for role in wanted)
            raise Forbidden(
                f"您的角色（{held}）无权执行此操作，需要{needed} "
                f"(role {', '.join(sorted(user.roles))} not allowed)"
            )

    return guard


# ---- reach: subtrees and roots -----------------------------------------------------------------


def root_path(user: User) -> str:
    """The path of the root (city) the user belongs to: '/510100/'."""
    return "/" + user.location_path.split("/")[1] + "/"


def root_code(user: User) -> str | None:
    """The code of the user's root; None for a global admin (no root of its own)."""
    return None if user.is_global else user.location_path.split("/")[1]


def own_root_path(user: User) -> str | None:
    """The root a user's city-wide work covers (an import, a share of a virtual place): its
    root's path; None (every root) for a global admin."""
    return None if user.is_global else root_path(user)


def scope_path(user: User) -> str | None:
    """The subtree the user reaches, as a path prefix: its own location's for every role but
    admin, its city's for an admin; None (everything) for a global admin."""
    if user.is_global:
        return None
    if user.has(Role.admin):
        return root_path(user)
    return user.location_path


def in_subtree(user: User, path: str) -> bool:
    scope = scope_path(user)
    return scope is None or path.startswith(scope)


def at_top(user: User) -> bool:
    """At the top of a tree: a user at a root, any admin (its reach is its root's), a global
    admin."""
    return user.has(Role.admin) or user.is_root


def can_see(user: User, path: str, physical: bool = True) -> bool:
    if not physical:  # a shared virtual place (its name; see the module's note on balances)
        return at_top(user)
    return in_subtree(user, path)


def require_visible(user: User, path: str, physical: bool = True, what: str = "") -> None:
    """Refuse what the user may not see. `what` (the place's name) is shown only for a place
    of the user's own city: another city's names are its own business."""
    if not can_see(user, path, physical):
        if physical:
            require_same_root(user, path)
        raise Forbidden(f"{what or '该库点'} 不在您的管辖范围内 (outside your subtree)")


def require_sees(user: User, entry: Any) -> None:
    """require_visible for a location as `locate` finds it."""
    require_visible(user, entry.path, entry.physical, entry.location.name)


def require_reads_card(user: User, entry: Any) -> None:
    """A stock card (明细账) of a virtual place (在途, 已发放 …) lists every city's movements
    (the place is shared): only a global admin reads one."""
    if not entry.physical and not user.is_global:
        raise Forbidden(
            f"{entry.location.name}是各市共用的虚拟库点，其明细账含其他市的单据，"
            "只有全局管理员可以查看 (a shared virtual place's card: global admins only)"
        )


def require_at(
    user: User,
    location_code: str,
    role: Role,
    what: str = "",
    locate: Locate | None = None,
) -> None:
    """The user holds `role` at exactly this location (or is an admin whose city holds it).

    locate: finds a location by code (its `.path` is read). An admin of a city is allowed only
    where it shows the location in its city (without it, refused: every caller passes it); a
    global admin is allowed anywhere. A refusal names the location only inside the user's city.
    """
    if user.has(Role.admin):
        if user.is_global or (locate is not None and in_subtree(user, locate(location_code).path)):
            return
        raise Forbidden(OUTSIDE_ROOT)
    if not user.has(role) or user.location_code != location_code:
        path = None
        if locate is not None:
            with suppress(LedgerError):  # an unknown code: the message below only repeats it
                path = locate(location_code).path
        if path is not None:
            require_same_root(user, path)
        raise Forbidden(
            f"只有{location_code}的{ROLE_NAMES.get(role, role)}可以{what} "
            f"(only the {role} at {location_code})"
        )


def require_same_root(user: User, path: str) -> None:
    """Refuse, naming nothing, a location of another root (city) than the user's: a refusal
    about it must not tell the other city's codes or names."""
    if not user.is_global and not path.startswith(root_path(user)):
        raise Forbidden(OUTSIDE_ROOT)


# ---- reference data ------------------------------------------------------------------------------


def require_may_add_location(user: User, parent: Any | None) -> None:
    """A new location goes under a parent the user sees; one without parent (a new city, or a
    virtual place every city shares) is a global admin's."""
    if parent is not None:
        require_sees(user, parent)
    elif not user.is_global:
        raise Forbidden(
            "新建没有上级的库点（新的市或虚拟库点）仅限全局管理员 "
            "(a location without parent is for a global admin)"
        )


def require_global_for_shared(user: User) -> None:
    """Items and batches are shared by every city: a city's admin would change the others'
    history too."""
    if not user.is_global:
        raise Forbidden(
            "物资和批次为各市共用，只有全局管理员可以修改 (items and batches are shared by every "
            "city: global admins only)"
        )


# ---- transactions --------------------------------------------------------------------------------


def require_sees_transaction(user: User, transaction: Any, locate: Locate) -> None:
    """A transaction is seen by whoever sees its location or its counterparty."""
    codes = [transaction.location_code] + (
        [transaction.counterparty_code] if transaction.counterparty_code else []
    )
    if not any(can_see(user, locate(code).path) for code in codes):
        raise Forbidden(f"单据 {transaction.number} 不在您的管辖范围内 (outside your subtree)")


def require_receiver(user: User, shipment: Any, locate: Locate) -> None:
    """A shipment is confirmed at its receiving location (by anyone there), or by an admin of
    the receiver's city."""
    require_sees_transaction(user, shipment, locate)
    receiver = shipment.counterparty_code or ""
    if user.has(Role.admin) and receiver:
        require_at(user, receiver, Role.clerk, "签收", locate)
    elif not user.has(Role.admin) and user.location_code != receiver:
        raise Forbidden(f"只有收货方 {receiver} 可以签收 (only the receiver confirms)")


# ---- allocation requests -------------------------------------------------------------------------


def require_sees_request(user: User, request: Any, locate: Locate) -> None:
    """A request is seen from the requester's and the supplier's subtrees."""
    paths = [locate(request.requester_code).path, locate(request.supplier_code).path]
    if not any(in_subtree(user, path) for path in paths):
        raise Forbidden(f"申领单 {request.number} 不在您的管辖范围内 (outside your subtree)")


def require_approver(user: User, request: Any, locate: Locate) -> None:
    """An approver above the requester (not at it), or an admin whose reach holds it."""
    requester = locate(request.requester_code)
    if user.has(Role.admin) and in_subtree(user, requester.path):
        return
    if (
        not user.has(Role.approver)
        or user.location_code == request.requester_code
        or not in_subtree(user, requester.path)
    ):
        raise Forbidden("只有上级审批人可以审批本申领单 (only an approver above the requester)")


def require_request_confirmer(user: User, request: Any, locate: Locate) -> None:
    """A request's shipment is confirmed at the requester (or by an admin of its city)."""
    if user.has(Role.admin):
        require_at(user, request.requester_code, Role.requester, "签收", locate)
    elif user.location_code != request.requester_code:
        raise Forbidden(
            f"只有申领方 {request.requester_code} 可以签收 (only the requester confirms)"
        )


def require_request_closer(user: User, request: Any, locate: Locate) -> None:
    """The supplying clerk closes a request, or its approver (an admin as an approver)."""
    if user.has(Role.clerk) and user.location_code == request.supplier_code:
        return
    if user.has(Role.approver) or user.has(Role.admin):
        require_approver(user, request, locate)
    else:
        require_at(user, request.supplier_code, Role.clerk, "关闭申领单")


# ---- audit ----------------------------------------------------------------------------------------


def require_top_auditor(user: User) -> None:
    """Whole-ledger verification and period closes cover a city: auditors at its top."""
    if not user.has(Role.admin) and not user.is_root:
        raise Forbidden(
            "全账核验与月结覆盖全市，仅限市级审计 (whole-ledger audit is for auditors at the top)"
        )


def audit_root(user: User, named: str | None) -> str | None:
    """The root (city) an audit read or close covers: a global admin's choice (None: the whole
    ledger); everybody else's own city — naming another is refused."""
    if user.is_global:
        return named
    own = root_code(user)
    if named is not None and named != own:
        raise Forbidden(f"{named} 不是您所在的市，不能查看或月结 (another root)")
    return own


def log_root(user: User) -> str | None:
    """Whose operations-log entries the user reads: a global admin reads every entry; an admin
    of a city and an auditor at a root that root's; nobody else reads the log."""
    if user.is_global:
        return None
    if user.has(Role.admin) or (user.has(Role.auditor) and user.is_root):
        return root_code(user)
    raise Forbidden("操作日志仅限市级审计和管理员查看 (the log is for auditors at the top)")


# ---- scanning and stocktakes -----------------------------------------------------------------------

SCAN_ROLES: dict[str, tuple[Role, ...]] = {
    ScanPurpose.receive: (Role.clerk,),
    ScanPurpose.issue: (Role.clerk,),
    ScanPurpose.count: (Role.clerk,),
    ScanPurpose.confirm: (Role.clerk, Role.requester),
}


def require_scanner(user: User, purpose: str, location_code: str, locate: Locate) -> None:
    """Only the clerk at the document's location scans (a requester may scan arrivals), or an
    admin whose city holds it."""
    if user.has(Role.admin):
        require_at(user, location_code, Role.clerk, "扫描", locate)
        return
    may_scan = any(user.has(role) for role in SCAN_ROLES[purpose])
    if not may_scan or user.location_code != location_code:
        require_same_root(user, locate(location_code).path)  # another city's: names nothing
        raise Forbidden(
            f"只有 {location_code} 的保管员可以在此扫描 (only the clerk at {location_code} scans here)"
        )


def require_stocktake_opener(user: User, location_code: str, locate: Locate) -> None:
    """A clerk opens a count at its own location; an admin, approver or auditor anywhere it
    sees (to watch or review the count)."""
    watchers = (Role.admin, Role.approver, Role.auditor)
    if not any(user.has(role) for role in watchers):  # a clerk only
        require_at(user, location_code, Role.clerk, "开始盘点")
    else:
        require_sees(user, locate(location_code))


# ---- users ----------------------------------------------------------------------------------------


def require_manages(admin: User, user: User, moves_to: str | None = None) -> None:
    """A global admin manages everybody; a city's admin the users of its city, and places
    them only in its city. The refusal names nothing of the other city or of a global admin."""
    if admin.is_global:
        return
    scope = scope_path(admin)
    for path in (user.location_path, moves_to):
        if path is not None and (user.is_global or not path.startswith(scope or "")):
            raise Forbidden(OUTSIDE_ROOT)


def require_may_add_user(
    admin: User, global_admin: bool, location_code: str | None, locate: Locate
) -> None:
    """Only a global admin adds a global admin; a city's admin adds users in its city."""
    if global_admin and not admin.is_global:
        raise Forbidden("只有全局管理员可以新建全局管理员 (only a global admin adds one)")
    if location_code is not None:
        place = locate(location_code)
        # a virtual place belongs to no city: the use case refuses it as such
        # (location_must_be_physical), which names nothing of another city
        if not admin.is_global and place.physical and not in_subtree(admin, place.path):
            raise Forbidden(OUTSIDE_ROOT)
