"""报表: every report with its filters, on screen, printable, downloadable.

`/reports` lists the reports; `/reports/{name}` shows one report's filters as a GET form (so
its address can be shared), the report as a table, and links to the API's print form
(`format=html`) and downloads (`format=xlsx|csv`), which open in the browser with the session.
The report is built by the service the API's route calls (report_specs), inside the reach the
API allows: a location outside the user's subtree is refused with 403.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from api.common import services_of
from api.errors import status_of
from api.policy import require_reads_card, scope_path
from api.web.names import LEVEL_NAMES, name_of
from api.web.places import location_options
from api.web.render import errors_of, page
from api.web.report_specs import (
    BY_NAME,
    SPECS,
    ReportSpec,
    api_query,
    read_filters,
    ready,
)
from api.web.units import quantity_text
from ledger.model import LocationLevel, StocktakeStatus
from ledger.rules import LedgerError
from ledger.services import lookups, stocktakes
from ledger.services.report_formats import NUMERIC_KINDS, Report
from ledger.services.stocktake_list import stocktakes_under
from ledger.services.users import User

PAGE_ROWS = 200  # rows of a report one screen shows; the downloads hold them all
ITEMS_MAX = 500
BATCHES_MAX = 500
STOCKTAKES_MAX = 200


# ---- the form's choices ------------------------------------------------------------------------


def item_options(request: Request, required: bool) -> list[tuple[str, str]]:
    database = services_of(request.app.state).database
    first = ("", "请选择物资") if required else ("", "全部物资")
    return [first] + [
        (item.code, f"{item.name}（{item.code}）") for item in lookups.items(database, ITEMS_MAX, 0)
    ]


def batch_options(request: Request, item_code: str) -> list[tuple[str, str]]:
    options = [("", "请选择批次")]
    if not item_code:
        return options
    try:
        found = lookups.batches(services_of(request.app.state).database, item_code, BATCHES_MAX, 0)
    except LedgerError:  # an unknown item: the report names it beside the item
        return options
    for batch in found:
        expiry = f"（有效期至 {batch.expires_on}）" if batch.expires_on else ""
        options.append((batch.number, f"{batch.number}{expiry}"))
    return options


def stocktake_options(request: Request) -> list[tuple[str, str]]:
    """The counts in the user's subtree that have a report (ended or approved), newest
    first."""
    database = services_of(request.app.state).database
    under = scope_path(request.user)
    found = [
        summary
        for status in (StocktakeStatus.closed, StocktakeStatus.approved)
        for summary in stocktakes_under(database, under, status, STOCKTAKES_MAX)
    ]
    found.sort(key=lambda summary: summary.created_at, reverse=True)
    return [("", "请选择盘点单")] + [
        (
            summary.number,
            f"{summary.number}　{summary.location_name}　截至 {summary.cut_off}　"
            f"{name_of('stocktake_status', summary.status)}",
        )
        for summary in found[:STOCKTAKES_MAX]
    ]


def _with_value(options: list[tuple[str, str]], value: str) -> list[tuple[str, str]]:
    """The options, with the value given kept as one of them when it is not (so the form
    shows what was asked, beside its error)."""
    if value and all(code != value for code, _ in options):
        return [*options, (value, value)]
    return options


def _defaults(request: Request, spec: ReportSpec, today: Any) -> dict[str, str]:
    """The page's defaults where the API has none: the user's own location, this month, next
    year's demand plan (drawn up in the year before it)."""
    user: User = request.user
    own = "" if user.location_level == LocationLevel.virtual else user.location_code
    return {
        "under": own,
        "location": own,
        "date_from": today.replace(day=1).isoformat(),
        "date_to": today.isoformat(),
        "year": str(today.year + 1),
    }


def year_options(today: Any) -> list[tuple[str, str]]:
    """The years a demand plan is drawn up for: this year (late) or the next."""
    return [
        (str(today.year + 1), f"{today.year + 1} 年（明年）"),
        (str(today.year), f"{today.year} 年（今年）"),
    ]


def _choices(
    request: Request, spec: ReportSpec, texts: dict[str, str], today: Any
) -> dict[str, Any]:
    choices: dict[str, Any] = {}
    for f in spec.filters:
        if f.options:
            choices[f.name] = _with_value(list(f.options), texts[f.name])
        elif f.kind == "year":
            choices[f.name] = _with_value(year_options(today), texts[f.name])
        elif f.kind == "location":
            options = location_options(request)
            choices[f.name] = None if options is None else _with_value(options, texts[f.name])
        elif f.kind == "item":
            choices[f.name] = _with_value(item_options(request, f.required), texts[f.name])
        elif f.kind == "batch":
            options = batch_options(request, texts.get("item", ""))
            choices[f.name] = _with_value(options, texts[f.name])
        elif f.kind == "stocktake":
            choices[f.name] = _with_value(stocktake_options(request), texts[f.name])
        elif f.kind == "bool":
            choices[f.name] = [("true", "是"), ("false", "否")]
    return choices


# ---- the report on screen ------------------------------------------------------------------------


def cell_text(value: Any, kind: str) -> str:
    """A value as the print form shows it: rates in %, whole numbers with separators, dates
    as YYYY-MM-DD, nothing for none."""
    if value is None:
        return ""
    if kind == "rate" and isinstance(value, int | float):
        return f"{value * 100:.2f}%"
    if kind == "int" and isinstance(value, int):
        return f"{value:,}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _item_finder(request: Request):
    """An item by code, remembered for the page (for quantities in packs)."""
    database = services_of(request.app.state).database
    known: dict[str, Any] = {}

    def item(code: str) -> Any:
        if code not in known:
            try:
                known[code] = lookups.item(database, code)
            except LedgerError:
                known[code] = None
        return known[code]

    return item


def table_rows(
    request: Request, spec: ReportSpec, report: Report, rows: tuple[tuple, ...]
) -> list[list[tuple]]:
    """The rows as cells (text, numeric?): a level in Chinese, and — where the row names its
    item — the spec's quantities (stock on hand; a period summary's opening, each receipt and
    issue, closing) in the item's packs with base units beside."""
    keys = [column.key for column in report.columns]
    kinds = [column.kind for column in report.columns]
    item_at = keys.index("item_code") if "item_code" in keys else None
    item = _item_finder(request)
    out = []
    for row in rows:
        cells = []
        for key, kind, value in zip(keys, kinds, row, strict=True):
            text = cell_text(value, kind)
            if key == "level":
                text = LEVEL_NAMES.get(str(value), text)
            elif key in spec.quantities and item_at is not None and isinstance(value, int):
                found = item(row[item_at])
                text = quantity_text(value, found) if found is not None else text
            cells.append((text, kind in NUMERIC_KINDS))
        out.append(cells)
    return out


def total_cells(report: Report, total: tuple) -> list[tuple]:
    return [
        (cell_text(value, column.kind), column.kind in NUMERIC_KINDS)
        for value, column in zip(total, report.columns, strict=False)
    ]


def _links(spec: ReportSpec, texts: dict[str, str], values: dict[str, Any]) -> dict[str, str]:
    path = spec.api_path(values)
    query = api_query(spec, texts)
    return {
        form: f"{path}?{urlencode([*query, ('format', form)])}" for form in ("html", "xlsx", "csv")
    }


def _check_reach(request: Request, spec: ReportSpec, values: dict[str, Any]) -> None:
    """The API's reach: the location read must be in the user's subtree (403 otherwise); a
    stocktake's location likewise."""
    services = services_of(request.app.state)
    if spec.place:
        entry = services.visible_location(request.user, values[spec.place], spec.place)
        if spec.name == "stock-card":
            require_reads_card(request.user, entry)
    else:
        stocktake = stocktakes.get(services.database, values["number"])
        services.visible_location(request.user, stocktake.location_code)


def _page_number(request: Request) -> int:
    text = request.query_params.get("page", "1")
    return int(text) if text.isdecimal() and 0 < len(text) < 7 else 1


# ---- pages ---------------------------------------------------------------------------------------


@get("/reports", sync_to_thread=True)
def reports_index(request: Request) -> Template:
    return page(request, "reports_index.html", "报表", specs=SPECS)


@get("/reports/stock-card/batches", sync_to_thread=True)
def batch_field(request: Request, item: FromQuery[str] = "") -> Template:
    """The batch select of the stock card for an item (htmx swaps it in when the item
    changes)."""
    return page(
        request,
        "reports_batch_field.html",
        "批次",
        options=batch_options(request, item[:200]),
        selected="",
        errors={},
    )


@get("/reports/{name:str}", sync_to_thread=True)
def report_page(request: Request, name: FromPath[str]) -> Template:
    spec = BY_NAME.get(name)
    if spec is None:
        raise NotFoundException(f"no report {name}")
    services = services_of(request.app.state)
    today = services.clock()
    query = {key: request.query_params.get(key, "") for key in request.query_params}
    texts, values, errors = read_filters(spec, query, _defaults(request, spec, today))
    report: Report | None = None
    status = 422 if errors else 200
    if not errors and ready(spec, values):
        for check in spec.checks:
            try:
                check(values, today)
            except LedgerError as error:
                errors.update(errors_of(error, {f.name for f in spec.filters}))
                status = status_of(error)
    if not errors and ready(spec, values):
        try:
            _check_reach(request, spec, values)
            report = services.database.lookup(lambda store: spec.build(store, values, today))
        except LedgerError as error:
            errors = errors_of(error, {f.name for f in spec.filters})
            status = status_of(error)
    context: dict[str, Any] = {}
    if report is not None:
        pages = max(1, math.ceil(len(report.rows) / PAGE_ROWS))
        number = min(_page_number(request), pages)
        start = (number - 1) * PAGE_ROWS
        shown = report.rows[start : start + PAGE_ROWS]
        context = {
            "rows": table_rows(request, spec, report, shown),
            "totals": [total_cells(report, total) for total in report.totals],
            "links": _links(spec, texts, values),
            "page_number": number,
            "pages": pages,
            "page_rows": PAGE_ROWS,
            "first_row": start + 1,
            "last_row": start + len(shown),
            "page_query": urlencode([(f.name, texts[f.name]) for f in spec.filters]),
        }
    template = page(
        request,
        "reports_report.html",
        spec.title,
        spec=spec,
        texts=texts,
        errors=errors,
        choices=_choices(request, spec, texts, today),
        report=report,
        **context,
    )
    template.status_code = status
    return template


HANDLERS: list = [reports_index, batch_field, report_page]
