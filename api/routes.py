"""The route table: every resource's handlers, mounted under /api/v1 by api/app.py.

One module per resource; what they share is in api/common.py (services, paging,
exactly-once POSTs) and api/policy.py (who may do what).
"""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from api import (
    audit_routes,
    balance_routes,
    demand_routes,
    import_routes,
    norm_routes,
    plan_routes,
    print_plan_routes,
    reference_routes,
    report_routes,
    request_routes,
    scan_routes,
    stocktake_routes,
    transaction_routes,
    user_routes,
)

ROUTES: list[ControllerRouterHandler] = [
    *user_routes.ROUTES,  # /me, /users
    *reference_routes.ROUTES,  # /items, /locations, /batches and their versions
    *transaction_routes.ROUTES,  # /transactions: the movements
    *balance_routes.ROUTES,  # /balances
    *audit_routes.ROUTES,  # /chain/digest, /audit/…
    *request_routes.ROUTES,  # /requests
    *plan_routes.ROUTES,  # /allocation-plans
    *print_plan_routes.ROUTES,  # /print-plans
    *scan_routes.ROUTES,  # packs, labels, deliveries, /scan-documents, /scans
    *stocktake_routes.ROUTES,  # /stocktakes
    *report_routes.ROUTES,  # /reports, stocktake reports, vouchers
    *import_routes.ROUTES,  # /imports
    *norm_routes.ROUTES,  # /locations/{code}/suggested-request, /reports/stock-alerts
    *demand_routes.ROUTES,  # /reports/demand-plan
]
