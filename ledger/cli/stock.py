"""Reading the stock: balances, reports and label sheets (and the label keys)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ledger.cli.base import (
    has_schema,
    ledger_database,
    main,
    output_path,
    text_table,
    write_output,
)
from ledger.limits import audit_sample_size_max, near_expiry_days_max
from ledger.rules import Code, LedgerError
from ledger.settings import Settings, office_today


@main.command()
@click.option("--location", "location_code", help="Location code, e.g. 510121.")
@click.option("--item", "item_code", help="Item code, e.g. NH2014.")
@click.option("--batch", "batch_number", help="Batch number, e.g. 2014-01.")
@click.option(
    "--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), help="End of this day."
)
@click.option("--virtual", is_flag=True, help="Include virtual locations (supplier, in-transit …).")
def balance(location_code, item_code, batch_number, as_of, virtual) -> None:
    """Stock on hand by location / item / batch (库存余额)."""
    from ledger.services.balances import balance_lines

    database = ledger_database()
    day = as_of.date() if as_of else None
    lines = balance_lines(database, location_code, item_code, batch_number, day, virtual)
    header = ("库点", "物资", "批次", "有效期至", "库存", "预留", "可用", "单位")
    rows = [
        (
            f"{line.location_name}({line.location_code})",
            f"{line.item_name}({line.item_code})",
            line.batch_number,
            str(line.expires_on or ""),
            str(line.on_hand),
            str(line.reserved),
            str(line.available),
            line.unit,
        )
        for line in lines
    ]
    click.echo(text_table(header, rows))
    click.echo(f"{len(rows)} 行 (rows){' as of ' + str(day) if day else ''}")


REPORT_FORMATS = ("xlsx", "csv", "html", "json")
# The options a report cannot do without (besides --out).
REPORT_NEEDS = {
    "stock-card": (("item_code", "--item"), ("batch_number", "--batch")),
    "coverage": (("item_code", "--item"),),
    "demand-plan": (("year", "--year"),),
}
LEVELS = ("city", "county", "township", "village")


@main.command()
@click.argument(
    "name",
    type=click.Choice(
        [
            "period-summary",
            "stock-card",
            "stock-on-hand",
            "near-expiry",
            "coverage",
            "in-transit",
            "write-off-rate",
            "audit-sample",
            "stock-alerts",
            "demand-plan",
        ]
    ),
)
@click.option(
    "--under", help="Top of the subtree (a location's code); by default the ledger's only city."
)
@click.option("--from", "date_from", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--to", "date_to", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--item", "item_code")
@click.option("--location", "location_code", help="stock-card: the location.")
@click.option("--batch", "batch_number", help="stock-card: the batch.")
@click.option(
    "--days",
    default=90,
    show_default=True,
    type=click.IntRange(0, near_expiry_days_max),
    help="near-expiry: days ahead.",
)
@click.option(
    "--size",
    default=30,
    show_default=True,
    type=click.IntRange(1, audit_sample_size_max),
    help="audit-sample: accounts.",
)
@click.option("--seed", default=0, show_default=True, help="audit-sample: random seed.")
@click.option(
    "--months",
    type=int,
    help="stock-alerts: the AMC window, 3, 6 or 12 months (default LEDGER_AMC_MONTHS, else 6); "
    "demand-plan: 3, 6 or 12 (default 12).",
)
@click.option("--year", type=int, help="demand-plan: the plan's year (this year or the next).")
@click.option(
    "--growth", help="demand-plan: growth in percent, -50 to 100 (default LEDGER_DEMAND_GROWTH)."
)
@click.option(
    "--level", type=click.Choice(LEVELS), help="demand-plan: the rows' level (default township)."
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(REPORT_FORMATS),
    help="xlsx, csv, html or json; by default the --out file's extension says, else xlsx.",
)
@click.option("--out", type=click.Path(dir_okay=False), required=True)
def report(
    name,
    under,
    date_from,
    date_to,
    as_of,
    item_code,
    location_code,
    batch_number,
    days,
    size,
    seed,
    months,
    year,
    growth,
    level,
    format_,
    out,
) -> None:
    """Write a report (收发存汇总表, 明细账, 库存余额 …) as XLSX, CSV, HTML or JSON."""
    from ledger.services import report_audit, report_demand, report_norms, report_stock, reports
    from ledger.services.report_formats import render

    given = {"item_code": item_code, "batch_number": batch_number, "year": year}
    for key, option in REPORT_NEEDS.get(name, ()):
        if not given[key]:
            raise LedgerError(
                Code.invalid_usage, f"{name} 需要选项 {option} (missing option {option})", key
            )
    suffix = Path(out).suffix.lower().lstrip(".")
    if format_ is None:
        format_ = suffix if suffix in REPORT_FORMATS else "xlsx"
    path = output_path(out, (format_,))
    today = office_today()
    first = date_from.date() if date_from else today.replace(day=1)
    last = date_to.date() if date_to else today
    if first > last:
        raise LedgerError(
            Code.date_range_invalid, f"--from {first} 晚于 --to {last} (from after to)", "date_from"
        )
    database = ledger_database()
    if under is None:  # the ledger's only city; with several, the user names one (root_required)
        from ledger.services.audit import root_code_of

        under = root_code_of(database, None, "报表")

    if name == "demand-plan":
        report_demand.check_asked(year, today, months, growth)
    database.lookup(lambda s: _check_codes(s, under, location_code, item_code, batch_number))
    builders = {
        "period-summary": lambda s: reports.period_summary(s, under, first, last, item_code),
        "stock-card": lambda s: report_stock.stock_card(
            s, location_code or under, item_code, batch_number, first, last
        ),
        "stock-on-hand": lambda s: report_stock.stock_on_hand(
            s, under, as_of.date() if as_of else None, item_code
        ),
        "near-expiry": lambda s: report_stock.near_expiry(s, under, days, today),
        "coverage": lambda s: report_stock.coverage(s, under, item_code, first, last),
        "in-transit": lambda s: report_stock.in_transit(s, under, today),
        "write-off-rate": lambda s: reports.write_off_rate(s, under, first, last),
        "audit-sample": lambda s: report_audit.audit_sample(s, under, size, seed, today),
        "stock-alerts": lambda s: report_norms.stock_alerts_asked(s, under, today, months),
        "demand-plan": lambda s: report_demand.demand_plan_asked_report(
            s, under, year, today, months, growth, level
        ),
    }
    # Reading is one query per figure set, so its bar moves once; writing moves per row.
    with click.progressbar(length=1, label="reading the ledger", file=sys.stderr) as bar:
        made = database.lookup(builders[name])
        bar.update(1)
    with click.progressbar(
        length=max(len(made.rows), 1), label=f"writing {format_}", file=sys.stderr
    ) as bar:
        data = render(made, format_, progress=bar.update)
    write_output(path, data)
    click.echo(f"{made.title}: {len(made.rows)} rows → {out}")


def _check_codes(store, under, location_code, item_code, batch_number) -> None:
    """Every code a report names, looked up before it is read (and any bar shown)."""
    store.location(under, "under")
    if location_code:
        store.location(location_code, "location")
    if item_code:
        item = store.item(item_code, "item")
        if batch_number:
            store.batch(item, batch_number, "batch")


@main.group(invoke_without_command=True)
@click.option("--batch", "batch", help="ITEM/BATCH, e.g. NH2014/2014-01.")
@click.option("--location", "location_code", help="Only the packs at (or announced for) here.")
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Write the PDF here.")
@click.option("--grid", default="3x8", show_default=True, help="Labels across x down per A4 page.")
@click.option("--margin", "margin_mm", default=8.0, show_default=True, help="Page margin, mm.")
@click.pass_context
def labels(ctx, batch, location_code, out, grid, margin_mm) -> None:
    """Print a batch's pack labels as an A4 PDF sheet (the same sheet the API returns)."""
    if ctx.invoked_subcommand is not None:
        return
    for value, option, form in ((batch, "--batch", "ITEM/BATCH"), (out, "--out", "FILE.pdf")):
        if not value:
            raise LedgerError(
                Code.invalid_usage,
                f"需要选项 {option} {form} (missing option {option})",
                option.lstrip("-"),
            )
    import time

    from ledger.services import label_keys, scanning
    from ledger.services.label_sheets import Grid

    item_code, separator, batch_number = batch.partition("/")
    columns, _, rows = grid.lower().partition("x")
    if not separator or not columns.isdecimal() or not rows.isdecimal():
        raise LedgerError(
            Code.invalid_usage,
            "--batch 写作 物资编码/批次，--grid 写作 列x行，例如 NH2014/2014-01 与 3x8 "
            "(--batch is ITEM/BATCH and --grid is COLUMNSxROWS, e.g. 3x8)",
        )
    sheet_grid = Grid(int(columns), int(rows), margin_mm)
    try:
        sheet_grid.check()
    except ValueError as error:
        raise LedgerError(
            Code.invalid_usage, f"标签排版不对 (label grid): {error}", "grid"
        ) from None
    path = output_path(out, ("pdf",))
    database = ledger_database()
    keys = label_keys.load(Settings.from_environment())
    started = time.perf_counter()
    packs = scanning.packs(database, keys, item_code, batch_number, location_code)
    sheet = scanning.sheet(database, keys, item_code, batch_number, location_code, sheet_grid)
    write_output(path, sheet)
    pages = -(-len(packs) // (sheet_grid.columns * sheet_grid.rows)) or 1
    click.echo(
        f"{len(packs)} labels on {pages} pages → {out} "
        f"({len(sheet) / 1e6:.1f} MB, {time.perf_counter() - started:.1f} s)"
    )


@labels.command("rotate-key")
def labels_rotate_key() -> None:
    """Sign new labels with a fresh key; labels printed under older keys still verify."""
    from ledger.services import label_keys

    key_id = label_keys.rotate(Settings.from_environment())
    click.echo(f"new labels are signed with key {key_id}")
    try:
        database = ledger_database()
    except LedgerError as error:
        if error.code != Code.no_ledger:
            raise
        return  # no ledger here to log it in (nothing is created for that)
    if has_schema(database):
        label_keys.log_rotation(database, key_id)
    database.dispose()
