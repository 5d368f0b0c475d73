"""The permission matrix: every role × every endpoint × inside/outside its subtree.

The table below names, for every route of the app, a request that is inside the caller's
subtree and one that is outside (都江堰市), and which roles may make each. A route missing from
the table fails the test, so no endpoint is left out. Allowed calls must succeed (2xx); the
others must be refused with 403 and change nothing; without a token every route is 401.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.common import Services
from ledger.db import journal_queries
from tests.api.conftest import ROLES, USER_LOCATIONS, Template, headers
from tests.conftest import TODAY

ALL = frozenset(ROLES)
ADMIN = frozenset({"admin"})
OFFICE = frozenset({"admin", "clerk", "approver", "auditor"})
JUNE = {"date_from": "2026-06-01", "date_to": "2026-06-30"}
OWN_TOWNSHIP = {"in": "510121-ZJ", "out": "510181-QCS"}
OWN_COUNTY = {"in": "510121", "out": "510181"}
CLERK_OF = {"in": "clerk", "out": "clerk-outside"}  # the clerk of OWN_COUNTY (template user)


class Call(NamedTuple):
    path: str
    body: dict | None = None
    params: dict | None = None
    files: dict | None = None  # a multipart/form-data body instead of JSON (a file upload)


class Case(NamedTuple):
    build: Callable[[str, str, Template], Call]  # (role, side, template) → the request
    inside: frozenset[str]  # roles allowed inside their subtree
    outside: frozenset[str] = ADMIN  # roles allowed outside it
    actor: str | None = None  # who may make it when no role above may (`global`: a global admin)


def where(role: str, side: str) -> str:
    """The caller's own location inside (金堂县 for the admin); the matching place under
    都江堰市 outside."""
    own = USER_LOCATIONS[role] if role != "admin" else "510121"
    if side == "in":
        return own
    return (
        OWN_TOWNSHIP["out"]
        if own.count("-")
        else OWN_COUNTY["out"]
        if own != "510100"
        else "510181"
    )


def lines(quantity: int = 1) -> list[dict]:
    return [{"item_code": "NH2014", "quantity": quantity}]


V1 = "/api/v1"
CASES: dict[tuple[str, str], Case] = {
    ("GET", f"{V1}/me"): Case(lambda r, s, t: Call(f"{V1}/me"), ALL, ALL),
    ("GET", f"{V1}/items"): Case(lambda r, s, t: Call(f"{V1}/items"), ALL, ALL),
    ("GET", f"{V1}/items/{{code:str}}"): Case(lambda r, s, t: Call(f"{V1}/items/NH2014"), ALL, ALL),
    ("POST", f"{V1}/items"): Case(
        lambda r, s, t: Call(
            f"{V1}/items",
            {
                "code": f"X{s}",
                "name": "折页",
                "kind": "printed",
                "category": "折页",
                "base_unit": "张",
            },
        ),
        ADMIN,
    ),
    ("GET", f"{V1}/locations"): Case(
        lambda r, s, t: Call(f"{V1}/locations", params={"under": where(r, s)}), ALL
    ),
    ("GET", f"{V1}/locations/{{code:str}}"): Case(
        lambda r, s, t: Call(f"{V1}/locations/{where(r, s)}"), ALL
    ),
    ("POST", f"{V1}/locations"): Case(
        lambda r, s, t: Call(
            f"{V1}/locations",
            {
                "code": f"{OWN_TOWNSHIP[s]}-NEW",
                "name": "新村",
                "level": "village",
                "parent_code": OWN_TOWNSHIP[s],
            },
        ),
        ADMIN,
    ),
    ("GET", f"{V1}/batches"): Case(
        lambda r, s, t: Call(f"{V1}/batches", params={"item": "BYT"}), ALL, ALL
    ),
    ("GET", f"{V1}/batches/{{item_code:str}}/{{number:str}}"): Case(
        lambda r, s, t: Call(f"{V1}/batches/BYT/B-LATE"), ALL, ALL
    ),
    # Versions of reference data: items and batches are shared by every city, so only a global
    # admin changes them (none in this table); a location, an admin of its city.
    ("GET", f"{V1}/items/{{code:str}}/versions"): Case(
        lambda r, s, t: Call(f"{V1}/items/NH2014/versions"), ALL, ALL
    ),
    ("POST", f"{V1}/items/{{code:str}}/versions"): Case(
        lambda r, s, t: Call(f"{V1}/items/NH2014/versions", {"reason": "测试", "name": "新年画"}),
        frozenset(),
        frozenset(),
        "global",
    ),
    ("GET", f"{V1}/locations/{{code:str}}/versions"): Case(
        lambda r, s, t: Call(f"{V1}/locations/{where(r, s)}/versions"), ALL
    ),
    ("POST", f"{V1}/locations/{{code:str}}/versions"): Case(
        lambda r, s, t: Call(
            f"{V1}/locations/{where(r, s)}/versions", {"reason": "测试", "name": f"改名{s}"}
        ),
        ADMIN,
    ),
    ("GET", f"{V1}/batches/{{item_code:str}}/{{number:str}}/versions"): Case(
        lambda r, s, t: Call(f"{V1}/batches/BYT/B-LATE/versions"), ALL, ALL
    ),
    ("POST", f"{V1}/batches/{{item_code:str}}/{{number:str}}/versions"): Case(
        lambda r, s, t: Call(
            f"{V1}/batches/BYT/B-LATE/versions", {"reason": "测试", "expires_on": "2027-12-31"}
        ),
        frozenset(),
        frozenset(),
        "global",
    ),
    ("GET", f"{V1}/transactions"): Case(
        lambda r, s, t: Call(f"{V1}/transactions", params={"location": where(r, s)}), ALL
    ),
    ("GET", f"{V1}/transactions/{{number:str}}"): Case(
        lambda r, s, t: Call(f"{V1}/transactions/{t.shipment_to_township[s]}"), ALL
    ),
    ("POST", f"{V1}/transactions/receipts"): Case(
        lambda r, s, t: Call(
            f"{V1}/transactions/receipts",
            {
                "location_code": where(r, s),
                "lines": [{"item_code": "NH2014", "batch_number": "2014-09", "quantity": 5}],
            },
        ),
        frozenset({"admin", "clerk"}),
    ),
    ("POST", f"{V1}/transactions/issues"): Case(
        lambda r, s, t: Call(
            f"{V1}/transactions/issues",
            {"source_code": where(r, s), "destination_code": "510121-ZJ-PS", "lines": lines()},
        ),
        frozenset({"admin", "clerk"}),
    ),
    ("POST", f"{V1}/transactions/confirmations"): Case(
        lambda r, s, t: Call(
            f"{V1}/transactions/confirmations",
            {
                "shipment_number": (
                    t.shipment_to_township if r == "requester" else t.shipment_to_county
                )[s]
            },
        ),
        frozenset({"admin", "clerk", "requester"}),
    ),
    ("POST", f"{V1}/transactions/distributions"): Case(
        lambda r, s, t: Call(
            f"{V1}/transactions/distributions", {"location_code": where(r, s), "lines": lines()}
        ),
        frozenset({"admin", "clerk"}),
    ),
    ("POST", f"{V1}/transactions/returns"): Case(
        lambda r, s, t: Call(
            f"{V1}/transactions/returns", {"location_code": where(r, s), "lines": lines()}
        ),
        frozenset({"admin", "clerk"}),
    ),
    ("POST", f"{V1}/transactions/write-offs"): Case(
        lambda r, s, t: Call(
            f"{V1}/transactions/write-offs",
            {"location_code": where(r, s), "lines": lines(), "reason": "damaged"},
        ),
        frozenset({"admin", "clerk"}),
    ),
    ("POST", f"{V1}/transactions/adjustments"): Case(
        lambda r, s, t: Call(
            f"{V1}/transactions/adjustments",
            {
                "location_code": where(r, s),
                "lines": [{"item_code": "NH2014", "batch_number": "2014-01", "difference": -1}],
            },
        ),
        frozenset({"admin", "clerk"}),
    ),
    ("POST", f"{V1}/transactions/reversals"): Case(
        lambda r, s, t: Call(
            f"{V1}/transactions/reversals", {"transaction_number": t.distribution[s]}
        ),
        frozenset({"admin", "clerk"}),
    ),
    ("GET", f"{V1}/balances"): Case(
        lambda r, s, t: Call(f"{V1}/balances", params={"location": where(r, s)}), ALL
    ),
    ("GET", f"{V1}/chain/digest"): Case(lambda r, s, t: Call(f"{V1}/chain/digest"), ALL, ALL),
    ("GET", f"{V1}/audit/verification"): Case(
        lambda r, s, t: Call(f"{V1}/audit/verification"), ADMIN, ADMIN
    ),
    ("GET", f"{V1}/audit/log"): Case(lambda r, s, t: Call(f"{V1}/audit/log"), ADMIN, ADMIN),
    ("POST", f"{V1}/requests"): Case(
        lambda r, s, t: Call(
            f"{V1}/requests", {"requester_code": OWN_TOWNSHIP[s], "lines": lines(10)}
        ),
        frozenset({"admin", "requester"}),
    ),
    ("GET", f"{V1}/requests"): Case(lambda r, s, t: Call(f"{V1}/requests"), ALL, ALL),
    ("GET", f"{V1}/requests/{{number:str}}"): Case(
        lambda r, s, t: Call(f"{V1}/requests/{t.approved[s]}"), ALL
    ),
    ("GET", f"{V1}/requests/{{number:str}}/events"): Case(
        lambda r, s, t: Call(f"{V1}/requests/{t.approved[s]}/events"), ALL
    ),
    ("GET", f"{V1}/requests/{{number:str}}/suggestion"): Case(
        lambda r, s, t: Call(f"{V1}/requests/{t.approved[s]}/suggestion"), ALL
    ),
    ("PUT", f"{V1}/requests/{{number:str}}"): Case(
        lambda r, s, t: Call(f"{V1}/requests/{t.draft[s]}", {"lines": lines(5)}),
        frozenset({"admin", "requester"}),
    ),
    ("POST", f"{V1}/requests/{{number:str}}/submit"): Case(
        lambda r, s, t: Call(f"{V1}/requests/{t.draft[s]}/submit"),
        frozenset({"admin", "requester"}),
    ),
    ("POST", f"{V1}/requests/{{number:str}}/cancel"): Case(
        lambda r, s, t: Call(f"{V1}/requests/{t.submitted[s]}/cancel"),
        frozenset({"admin", "requester"}),
    ),
    ("POST", f"{V1}/requests/{{number:str}}/approve"): Case(
        lambda r, s, t: Call(f"{V1}/requests/{t.submitted[s]}/approve", {"lines": lines(10)}),
        frozenset({"admin", "approver"}),
    ),
    ("POST", f"{V1}/requests/{{number:str}}/reject"): Case(
        lambda r, s, t: Call(f"{V1}/requests/{t.submitted[s]}/reject", {"reason": "库存不足"}),
        frozenset({"admin", "approver"}),
    ),
    ("POST", f"{V1}/requests/{{number:str}}/shipments"): Case(
        lambda r, s, t: Call(f"{V1}/requests/{t.approved[s]}/shipments", {"lines": lines(100)}),
        frozenset({"admin", "clerk"}),
    ),
    ("POST", f"{V1}/requests/{{number:str}}/shipments/{{shipment:str}}/confirm"): Case(
        lambda r, s, t: Call(
            f"{V1}/requests/{t.approved_shipped[s]}/shipments/{t.request_shipment[s]}/confirm"
        ),
        frozenset({"admin", "requester"}),
    ),
    ("POST", f"{V1}/requests/{{number:str}}/close"): Case(
        lambda r, s, t: Call(f"{V1}/requests/{t.approved[s]}/close"),
        frozenset({"admin", "approver", "clerk"}),
    ),
    ("POST", f"{V1}/allocation-plans"): Case(
        lambda r, s, t: Call(
            f"{V1}/allocation-plans",
            {
                "source_code": OWN_COUNTY[s],
                "item_code": "NH2014",
                "quantity": 1000,
                "shares": [{"location_code": OWN_TOWNSHIP[s], "weight": 1}],
            },
        ),
        frozenset({"admin", "clerk", "approver"}),
    ),
    ("POST", f"{V1}/print-plans"): Case(
        lambda r, s, t: Call(
            f"{V1}/print-plans",
            {
                "office_code": OWN_COUNTY[s],
                "item_code": "NH2014",
                "level": "township",
                "basis": "place",
                "copies": 500,
            },
        ),
        frozenset({"admin", "clerk", "approver"}),
    ),
    ("GET", f"{V1}/print-plans/{{number:str}}"): Case(
        lambda r, s, t: Call(f"{V1}/print-plans/{t.print_plan[s]}", params={"format": "csv"}),
        OFFICE,
    ),
    ("GET", f"{V1}/batches/{{item_code:str}}/{{number:str}}/packs"): Case(
        lambda r, s, t: Call(
            f"{V1}/batches/NH2014/2014-01/packs", params={"location": where(r, s)}
        ),
        ALL,
    ),
    ("GET", f"{V1}/batches/{{item_code:str}}/{{number:str}}/labels"): Case(
        lambda r, s, t: Call(
            f"{V1}/batches/NH2014/2014-01/labels", params={"location": where(r, s), "rows": 2}
        ),
        frozenset({"admin", "clerk"}),
    ),
    ("GET", f"{V1}/batches/{{item_code:str}}/{{number:str}}/packs/{{serial:int}}/label"): Case(
        lambda r, s, t: Call(
            f"{V1}/batches/NH2014/2014-01/packs/{t.pack_serial[where(r, s)]}/label",
            params={"format": "svg"},
        ),
        ALL,
    ),
    ("POST", f"{V1}/deliveries"): Case(
        lambda r, s, t: Call(
            f"{V1}/deliveries",
            {
                "location_code": where(r, s),
                "item_code": "NH2014",
                "batch_number": "2014-09",
                "quantity": 1000,
            },
        ),
        frozenset({"admin", "clerk"}),
    ),
    ("POST", f"{V1}/packs/open"): Case(
        lambda r, s, t: Call(
            f"{V1}/packs/open",
            {"payload": t.pack_payload[where(r, s)], "location_code": where(r, s)},
        ),
        frozenset({"admin", "clerk"}),
    ),
    ("POST", f"{V1}/scan-documents"): Case(
        lambda r, s, t: Call(
            f"{V1}/scan-documents", {"purpose": "count", "location_code": where(r, s)}
        ),
        frozenset({"admin", "clerk"}),
    ),
    ("GET", f"{V1}/scan-documents"): Case(lambda r, s, t: Call(f"{V1}/scan-documents"), ALL, ALL),
    ("GET", f"{V1}/scan-documents/{{document_id:int}}"): Case(
        lambda r, s, t: Call(f"{V1}/scan-documents/{t.document[where(r, s)]}"), ALL
    ),
    ("POST", f"{V1}/scans"): Case(
        lambda r, s, t: Call(
            f"{V1}/scans",
            {"document": t.document[where(r, s)], "payload": t.scan_payload[where(r, s)]},
        ),
        frozenset({"admin", "clerk", "requester"}),
    ),
    ("POST", f"{V1}/scan-documents/{{document_id:int}}/undo"): Case(
        lambda r, s, t: Call(f"{V1}/scan-documents/{t.document[where(r, s)]}/undo"),
        frozenset({"admin", "clerk", "requester"}),
    ),
    ("POST", f"{V1}/scan-documents/{{document_id:int}}/cancel"): Case(
        lambda r, s, t: Call(f"{V1}/scan-documents/{t.document[where(r, s)]}/cancel"),
        frozenset({"admin", "clerk", "requester"}),
    ),
    ("POST", f"{V1}/scan-documents/{{document_id:int}}/post"): Case(
        lambda r, s, t: Call(f"{V1}/scan-documents/{t.document[where(r, s)]}/post", {}),
        frozenset({"admin", "clerk", "requester"}),
    ),
    ("GET", f"{V1}/audit/period-closes"): Case(
        lambda r, s, t: Call(f"{V1}/audit/period-closes"), ALL, ALL
    ),
    ("POST", f"{V1}/audit/period-closes"): Case(
        lambda r, s, t: Call(f"{V1}/audit/period-closes", {"period_end": "2026-06-29"}),
        ADMIN,
        ADMIN,
    ),
    ("GET", f"{V1}/reports/period-summary"): Case(
        lambda r, s, t: Call(f"{V1}/reports/period-summary", params={"under": where(r, s), **JUNE}),
        ALL,
    ),
    ("GET", f"{V1}/reports/stock-card"): Case(
        lambda r, s, t: Call(
            f"{V1}/reports/stock-card",
            params={"location": where(r, s), "item": "NH2014", "batch": "2014-01", **JUNE},
        ),
        ALL,
    ),
    ("GET", f"{V1}/reports/stock-on-hand"): Case(
        lambda r, s, t: Call(
            f"{V1}/reports/stock-on-hand", params={"under": where(r, s), "format": "xlsx"}
        ),
        ALL,
    ),
    ("GET", f"{V1}/reports/near-expiry"): Case(
        lambda r, s, t: Call(f"{V1}/reports/near-expiry", params={"under": where(r, s)}), ALL
    ),
    ("GET", f"{V1}/reports/coverage"): Case(
        lambda r, s, t: Call(
            f"{V1}/reports/coverage", params={"under": where(r, s), "item": "NH2014", **JUNE}
        ),
        ALL,
    ),
    ("GET", f"{V1}/reports/in-transit"): Case(
        lambda r, s, t: Call(
            f"{V1}/reports/in-transit", params={"under": where(r, s), "format": "csv"}
        ),
        ALL,
    ),
    ("GET", f"{V1}/reports/stock-alerts"): Case(
        lambda r, s, t: Call(
            f"{V1}/reports/stock-alerts", params={"under": where(r, s), "format": "xlsx"}
        ),
        ALL,
    ),
    ("GET", f"{V1}/reports/demand-plan"): Case(
        lambda r, s, t: Call(
            f"{V1}/reports/demand-plan", params={"under": where(r, s), "year": 2027}
        ),
        ALL,
    ),
    ("GET", f"{V1}/locations/{{code:str}}/suggested-request"): Case(
        lambda r, s, t: Call(f"{V1}/locations/{where(r, s)}/suggested-request"), ALL
    ),
    ("GET", f"{V1}/norms"): Case(
        lambda r, s, t: Call(f"{V1}/norms", params={"under": where(r, s)}), ALL
    ),
    # a place's norm: an admin of its city (a level's, shared by every city: a global admin)
    ("POST", f"{V1}/norms"): Case(
        lambda r, s, t: Call(
            f"{V1}/norms", {"location_code": where(r, s), "min_months": 1, "max_months": 3}
        ),
        ADMIN,
    ),
    ("GET", f"{V1}/reports/write-off-rate"): Case(
        lambda r, s, t: Call(
            f"{V1}/reports/write-off-rate", params={"under": where(r, s), "format": "html", **JUNE}
        ),
        ALL,
    ),
    ("GET", f"{V1}/reports/audit-sample"): Case(
        lambda r, s, t: Call(
            f"{V1}/reports/audit-sample", params={"under": where(r, s), "size": 3, "seed": 7}
        ),
        ALL,
    ),
    ("GET", f"{V1}/stocktakes/{{number:str}}/report"): Case(
        lambda r, s, t: Call(f"{V1}/stocktakes/{t.stocktake_closed[s]}/report"), OFFICE
    ),
    ("GET", f"{V1}/transactions/{{number:str}}/voucher"): Case(
        lambda r, s, t: Call(f"{V1}/transactions/{t.shipment_to_township[s]}/voucher"), ALL
    ),
    ("POST", f"{V1}/stocktakes"): Case(
        lambda r, s, t: Call(f"{V1}/stocktakes", {"location_code": where(r, s)}), OFFICE
    ),
    ("GET", f"{V1}/stocktakes/{{number:str}}"): Case(
        lambda r, s, t: Call(f"{V1}/stocktakes/{t.stocktake_counting[s]}"), OFFICE
    ),
    ("POST", f"{V1}/stocktakes/{{number:str}}/counts"): Case(
        lambda r, s, t: Call(
            f"{V1}/stocktakes/{t.stocktake_counting[s]}/counts",
            {
                "lines": [
                    {
                        "location_code": OWN_COUNTY[s],
                        "item_code": "NH2014",
                        "batch_number": "2014-01",
                        "quantity": 5,
                    }
                ]
            },
        ),
        frozenset({"admin", "clerk"}),
    ),
    ("POST", f"{V1}/stocktakes/{{number:str}}/scan-documents"): Case(
        lambda r, s, t: Call(
            f"{V1}/stocktakes/{t.stocktake_counting[s]}/scan-documents",
            {"document": t.posted_count[OWN_COUNTY[s]]},
        ),
        frozenset({"admin", "clerk"}),
    ),
    ("POST", f"{V1}/stocktakes/{{number:str}}/close"): Case(
        lambda r, s, t: Call(f"{V1}/stocktakes/{t.stocktake_counting[s]}/close"), OFFICE
    ),
    ("GET", f"{V1}/stocktakes/{{number:str}}/reconciliation"): Case(
        lambda r, s, t: Call(f"{V1}/stocktakes/{t.stocktake_closed[s]}/reconciliation"), OFFICE
    ),
    ("POST", f"{V1}/stocktakes/{{number:str}}/recount"): Case(
        lambda r, s, t: Call(
            f"{V1}/stocktakes/{t.stocktake_closed[s]}/recount",
            {
                "lines": [
                    {
                        "location_code": OWN_COUNTY[s],
                        "item_code": "NH2014",
                        "batch_number": "2014-01",
                    }
                ],
                "reason": "复盘",
            },
        ),
        frozenset({"admin", "approver", "auditor"}),
    ),
    ("POST", f"{V1}/stocktakes/{{number:str}}/approve"): Case(
        lambda r, s, t: Call(
            f"{V1}/stocktakes/{t.stocktake_closed[s]}/approve",
            {"reason": "帐物相符", "preview_digest": t.stocktake_digest[s]},
        ),
        frozenset({"admin", "approver", "auditor"}),
    ),
    ("GET", f"{V1}/stocktakes/{{number:str}}/approval-preview"): Case(
        lambda r, s, t: Call(f"{V1}/stocktakes/{t.stocktake_closed[s]}/approval-preview"), OFFICE
    ),
    ("POST", f"{V1}/stocktakes/{{number:str}}/zero-uncounted"): Case(
        lambda r, s, t: Call(
            f"{V1}/stocktakes/{t.stocktake_counting[s]}/zero-uncounted",
            {"location_code": OWN_COUNTY[s]},
        ),
        frozenset({"admin", "clerk"}),
    ),
    ("POST", f"{V1}/allocation-plans/apply"): Case(
        lambda r, s, t: Call(
            f"{V1}/allocation-plans/apply",
            {
                "source_code": OWN_COUNTY[s],
                "item_code": "NH2014",
                "quantity": 1000,
                "shares": [{"location_code": OWN_TOWNSHIP[s], "weight": 1}],
            },
        ),
        frozenset({"admin", "clerk"}),
    ),
    # Imports: an admin's file, every row in its city (another city's rows: test_roots.py).
    ("POST", f"{V1}/imports/{{kind:str}}"): Case(
        lambda r, s, t: Call(
            f"{V1}/imports/locations",
            files={
                "file": (
                    "库点.csv",
                    f"编码,名称,上级编码,级别,人口\n{OWN_TOWNSHIP[s]}-IMP,导入村,{OWN_TOWNSHIP[s]},村,900\n",
                    "text/csv",
                )
            },
        ),
        ADMIN,
    ),
    # Users: an admin manages its city's users (成都市's admin: both sides are its city; another
    # city's users in tests/api/test_roots.py).
    ("GET", f"{V1}/users"): Case(
        lambda r, s, t: Call(f"{V1}/users", params={"under": OWN_COUNTY[s]}), ADMIN, ADMIN
    ),
    ("GET", f"{V1}/users/{{user_id:int}}"): Case(
        lambda r, s, t: Call(f"{V1}/users/{t.user_id[CLERK_OF[s]]}"), ADMIN, ADMIN
    ),
    ("POST", f"{V1}/users"): Case(
        lambda r, s, t: Call(
            f"{V1}/users",
            {
                "label": f"新保管员兼审批人{s}",
                "roles": ["clerk", "approver"],
                "location_code": OWN_COUNTY[s],
            },
        ),
        ADMIN,
        ADMIN,
    ),
    ("PATCH", f"{V1}/users/{{user_id:int}}"): Case(
        lambda r, s, t: Call(
            f"{V1}/users/{t.user_id[CLERK_OF[s]]}", {"roles": ["clerk", "approver"]}
        ),
        ADMIN,
        ADMIN,
    ),
    ("POST", f"{V1}/users/{{user_id:int}}/token"): Case(
        lambda r, s, t: Call(f"{V1}/users/{t.user_id[CLERK_OF[s]]}/token"), ADMIN, ADMIN
    ),
    ("POST", f"{V1}/users/{{user_id:int}}/revoke"): Case(
        lambda r, s, t: Call(f"{V1}/users/{t.user_id[CLERK_OF[s]]}/revoke"), ADMIN, ADMIN
    ),
    ("PUT", f"{V1}/users/{{user_id:int}}/sign-in"): Case(
        lambda r, s, t: Call(
            f"{V1}/users/{t.user_id[CLERK_OF[s]]}/sign-in", {"login": f"clerk-{s}@test"}
        ),
        ADMIN,
        ADMIN,
    ),
    # everybody's own (the test users have no password yet: their first one, with the token)
    ("POST", f"{V1}/me/password"): Case(
        lambda r, s, t: Call(f"{V1}/me/password", {"password": f"first-pass-{s}"}), ALL, ALL
    ),
}


def app_routes() -> set[tuple[str, str]]:
    app = create_app(_placeholder_database())
    found = set()
    for route in app.routes:
        if not route.path.startswith(V1):
            continue
        for method in getattr(route, "methods", ()):
            if method not in {"HEAD", "OPTIONS"}:
                found.add((method, route.path))
    return found


def _placeholder_database():
    from ledger.db.unit_of_work import Database

    return Database.from_url("sqlite://")


def test_the_table_covers_every_route_of_the_app():
    assert app_routes() == set(CASES)


MATRIX = [
    pytest.param(route, role, side, id=f"{route[0]} {route[1]} {role} {side}")
    for route in sorted(CASES)
    for role in ROLES
    for side in ("in", "out")
]


def send(client: TestClient, method: str, call: Call, who: str | None):
    request_headers = headers(who) if who else {}
    return client.request(
        method,
        call.path,
        json=call.body,
        params=call.params,
        headers=request_headers,
        files=call.files,
    )


@pytest.fixture(scope="module")
def write_app():
    """One app for the module's allowed writes (building an app takes longer than a write); each
    write gives it a copy of the template of its own (`writing_client`)."""
    return create_app(_placeholder_database(), clock=lambda: TODAY)


@pytest.fixture
def writing_client(write_app, api_database) -> TestClient:
    """The module's app over this test's copy of the template, with nothing in memory kept from
    the last test (a new engine, reference-data cache, services and token cache)."""
    app = write_app
    app.state.database = api_database
    app.state.services = Services(api_database, lambda: TODAY, app.state.services.label_keys)
    app.state.token_cache = {}
    app.state.users_changed = {}
    app.state.failed_sign_ins = {}
    return TestClient(app=app)


def ledger_state(database) -> tuple:
    with database.read() as connection:
        return journal_queries.counts(connection), journal_queries.chain_digest(connection)


@pytest.mark.parametrize(("route", "role", "side"), MATRIX)
def test_permission(route, role, side, request, shared_client, numbers):
    method, _ = route
    case = CASES[route]
    call = case.build(role, side, numbers)
    allowed = role in (case.inside if side == "in" else case.outside)
    if method == "GET" or not allowed:
        # reads and refusals change nothing (a refusal is checked for it below): one app and
        # database serve them all
        client, api_database = shared_client
    else:
        api_database = request.getfixturevalue("api_database")
        client = request.getfixturevalue("writing_client")
    before = ledger_state(api_database)
    response = send(client, method, call, role)
    if allowed:
        assert 200 <= response.status_code < 300, (response.status_code, response.text)
    else:
        assert response.status_code == 403, (response.status_code, response.text)
        assert response.json()["code"] == "forbidden"
        assert ledger_state(api_database) == before


@pytest.mark.parametrize("route", sorted(CASES), ids=lambda route: f"{route[0]} {route[1]}")
def test_no_token_is_401(route, shared_client, numbers):
    client, _ = shared_client  # refused before anything is read or written
    method, _ = route
    call = CASES[route].build("admin", "in", numbers)
    response = send(client, method, call, None)
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


def test_a_revoked_token_stops_working(api_database, numbers):
    from ledger.services.users import list_users, revoke_user

    with TestClient(app=create_app(api_database, clock=lambda: TODAY)) as client:
        assert client.get(f"{V1}/me", headers=headers("clerk")).status_code == 200
        clerk = next(user for user in list_users(api_database) if user.label == "测试 clerk")
        revoke_user(api_database, clerk.id)
        client.app.state.token_cache.clear()  # as if the few seconds of caching had passed
        assert client.get(f"{V1}/me", headers=headers("clerk")).status_code == 401
