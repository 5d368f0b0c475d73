"""库存定额 on the command line: `ledger norms set` and `ledger norms show` (the command line
acts as the office's admin, as for users and minimums; each setting is logged)."""

from __future__ import annotations

import click

from ledger.cli.base import ledger_database, main, text_table
from ledger.norms import LEVEL_DEFAULTS, NORM_SOURCE_NAMES
from ledger.settings import office_today

LEVELS = ("city", "county", "township", "village")


@main.group()
def norms() -> None:
    """Stock norms (库存定额): min and max stock in months of consumption."""


@norms.command("set")
@click.option("--level", type=click.Choice(LEVELS), help="Every place of this level, every item.")
@click.option("--location", "location_code", help="One location (instead of --level).")
@click.option("--item", "item_code", help="With --location: only this item.")
@click.option("--min", "min_months", type=int, required=True, help="Minimum, in months.")
@click.option("--max", "max_months", type=int, required=True, help="Maximum, in months.")
@click.option(
    "--from",
    "valid_from",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Valid from this day (default today; not before today).",
)
def set_(level, location_code, item_code, min_months, max_months, valid_from) -> None:
    """Set a norm for a level, a location, or a location and item (dated, logged)."""
    from ledger.services.norms import set_norm

    done = set_norm(
        ledger_database(),
        min_months,
        max_months,
        level=level,
        location_code=location_code,
        item_code=item_code,
        valid_from=valid_from.date() if valid_from else None,
    )
    scope = done.level or " ".join(code for code in (done.location_code, done.item_code) if code)
    click.echo(
        f"库存定额 {scope}: {done.min_months}–{done.max_months} 个月，自 {done.valid_from} 起"
    )


@norms.command("show")
@click.option("--under", help="Only the norms of places under this location (and the levels').")
@click.option("--location", "location_code", help="With --item: the norm in force there.")
@click.option("--item", "item_code")
@click.option("--on", "on", type=click.DateTime(formats=["%Y-%m-%d"]), help="Default today.")
def show(under, location_code, item_code, on) -> None:
    """The defaults, every norm set, or (--location and --item) the one in force on a day."""
    from ledger.services.norms import norm_of, norms_set

    database = ledger_database()
    day = on.date() if on else office_today()
    if location_code and item_code:
        norm = database.lookup(lambda s: norm_of(s, location_code, item_code, day))
        click.echo(
            f"{location_code} {item_code} {day}: {norm.min_months}–{norm.max_months} 个月"
            f"（{NORM_SOURCE_NAMES[norm.source]}）"
        )
        return
    click.echo("默认: " + "，".join(f"{k.value} {a}–{b}" for k, (a, b) in LEVEL_DEFAULTS.items()))
    rows = [
        (
            str(n.id),
            n.level or "",
            n.location_code or "",
            n.item_code or "全部",
            f"{n.min_months}–{n.max_months}",
            str(n.valid_from),
            n.set_by,
        )
        for n in norms_set(database, under)
    ]
    header = ("#", "级别", "库点", "物资", "月数", "生效日期", "设定人")
    click.echo(text_table(header, rows))
