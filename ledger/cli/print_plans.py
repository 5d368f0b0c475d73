"""印制计划 on the command line: `ledger print-plan make` (and `--save`), `ledger print-plan
show NUMBER`, and `ledger print-plan allocate NUMBER --source CODE [--apply]`, which turns a
saved plan into the allocation plan (分配计划) from a place of it when the print run arrives.
The command line acts as the office (as for norms and imports)."""

from __future__ import annotations

import click

from ledger.cli.base import ledger_database, main, output_path, text_table, write_output
from ledger.settings import office_today

FORMATS = ("xlsx", "csv", "html", "json")


@main.group("print-plan")
def print_plan() -> None:
    """Print-run plans (印制计划) for 年画, 挂图 …: copies per place, what to print."""


def _summary(made) -> None:
    """Each place right below the office with its area's quantity, then the totals."""
    plan = made.plan
    unit = made.base_unit
    office = plan.lines[0].location_code
    rows = [
        (
            f"{line.location_name}({line.location_code})",
            f"{line.subtree:,}",
            f"{line.subtree // plan.pack_base_units:,}",
        )
        for line in plan.lines
        if line.parent_code == office
    ]
    click.echo(text_table(("库点", f"含下级（{unit}）", f"包（{made.pack_name}）"), rows))
    number = made.number or "（未保存：加 --save 保存）"
    click.echo(
        f"印制计划 {number}：合计 {plan.total:,} {unit}，本单位库存 {plan.on_hand:,}，"
        f"应印 {plan.to_print:,} {unit}（{plan.to_print // plan.pack_base_units:,} "
        f"{made.pack_name}）"
    )


def _write(made, out: str | None, format_: str | None) -> None:
    if not out:
        return
    from ledger.services.report_formats import render
    from ledger.services.report_print_plan import print_plan_report

    path = output_path(out, FORMATS)
    chosen = format_ or path.suffix.lower().lstrip(".") or "xlsx"
    write_output(path, render(print_plan_report(made), chosen))
    click.echo(f"印制计划表 → {out}")


OUT = click.option("--out", type=click.Path(dir_okay=False), help="Write the 印制计划表 here.")
FORMAT = click.option(
    "--format", "format_", type=click.Choice(FORMATS), help="By default the --out extension."
)


@print_plan.command("make")
@click.option("--office", "office_code", required=True, help="Whose area, e.g. 510100.")
@click.option("--item", "item_code", required=True, help="The 宣传品, e.g. NH2015.")
@click.option(
    "--level",
    default="village",
    show_default=True,
    type=click.Choice(("county", "township", "village")),
    help="Where the copies go.",
)
@click.option(
    "--basis",
    default="household",
    show_default=True,
    type=click.Choice(("household", "person", "place")),
    help="Count households (户), persons (人) or places (个).",
)
@click.option("--copies", default=1, show_default=True, help="Base units per --per of the basis.")
@click.option("--per", default=1, show_default=True, help="Households/persons per --copies.")
@click.option("--coverage", default=100, show_default=True, help="Percent of the basis covered.")
@click.option("--spare", default=0, show_default=True, help="Percent kept at each level above.")
@click.option("--household-size", default="2.62", show_default=True, help="Persons a household.")
@click.option("--pack", help="Whole packs of this (default the item's first pack).")
@click.option("--keep-stock", is_flag=True, help="Do not set the office's stock against it.")
@click.option("--title", default="", help="e.g. 2015年年画印制计划.")
@click.option("--save", is_flag=True, help="Keep the plan under a number (YZ-…).")
@OUT
@FORMAT
def make(office_code, item_code, level, basis, copies, per, coverage, spare, **options) -> None:
    """Make a print-run plan from the places' populations and a coverage target."""
    from ledger import print_plan as pp
    from ledger.services.print_plans import Terms, make_print_plan

    target = pp.Target(pp.basis_of(basis), copies, per, coverage)
    terms = Terms(
        office_code,
        item_code,
        level,
        target,
        spare,
        pp.household_size_of(options["household_size"]),
        options["pack"],
        not options["keep_stock"],
        options["title"],
    )
    if options["out"]:
        output_path(options["out"], FORMATS)
    made = make_print_plan(ledger_database(), terms, options["save"], today=office_today())
    _summary(made)
    _write(made, options["out"], options["format_"])


@print_plan.command("show")
@click.argument("number")
@OUT
@FORMAT
def show(number, out, format_) -> None:
    """A saved plan's figures (and its 印制计划表 with --out)."""
    from ledger.services.print_plans import get_print_plan

    if out:
        output_path(out, FORMATS)
    made = get_print_plan(ledger_database(), number)
    _summary(made)
    _write(made, out, format_)


@print_plan.command("allocate")
@click.argument("number")
@click.option("--source", "source_code", required=True, help="Where the print run is, e.g. 510100.")
@click.option("--quantity", type=int, help="Base units to split (default: the plan's).")
@click.option("--apply", "apply_", is_flag=True, help="Issue the lines (出库) now.")
@click.option("--memo", default="按印制计划分配")
def allocate(number, source_code, quantity, apply_, memo) -> None:
    """The allocation plan from SOURCE: its places in the plan get what is still due to them
    (their areas' quantities less what has been issued under the plan, reversals not counted)."""
    from ledger.services.print_plans import (
        IssueOrder,
        allocation_from_print_plan,
        get_print_plan,
        issue_print_plan,
        print_plan_shipping,
    )

    database = ledger_database()
    today = office_today()
    saved = get_print_plan(database, number)
    unit = saved.base_unit
    below = {line.location_code for line in saved.plan.lines if line.parent_code == source_code}
    shipping = [
        place for place in print_plan_shipping(database, number) if place.location_code in below
    ]
    rows = [
        (place.location_code, f"{place.planned:,}", f"{place.shipped:,}", f"{place.due:,}")
        for place in shipping
    ]
    click.echo(text_table(("库点", f"计划（{unit}）", f"已发（{unit}）", f"待发（{unit}）"), rows))
    if apply_:
        order = IssueOrder(quantity, None, memo)
        plan, shipments = issue_print_plan(database, number, source_code, order, None, today)
    else:
        plan = allocation_from_print_plan(database, number, source_code, quantity, today)
    split = [(line.location_code, f"{line.packs:,}", f"{line.quantity:,}") for line in plan.lines]
    click.echo(text_table(("库点", f"包（{saved.pack_name}）", f"数量（{unit}）"), split))
    click.echo(f"分配 {plan.allocated:,} {unit}，未分配 {plan.unallocated:,} {unit}")
    if apply_:
        click.echo("出库单: " + "、".join(tx.number for tx in shipments))
