"""库存定额 on the command line: `ledger norms set` and `ledger norms show` (the command line
acts as the office's admin, as for users and minimums; each setting is logged)."""

from __future__ import annotations

import click

from ledger.cli.base import ledger_database, main, text_table
from ledger.model import LocationLevel
from ledger.norms import LEVEL_DEFAULTS, NORM_SOURCE_NAMES
from ledger.settings import office_today

LEVELS = ("city", "county", "township", "village")


@main.group()
def norms() -> None:
    """Stock norms (库存定额): min and max stock in months of consumption."""


@norms.command("set")
@click.option("--level", type=click.Choice(LEVELS), help="Every place of this level, every item.")
@click.option(
    "--city",
    "city_code",
    help="With --level: only the places of this city (a root location's code); "
    "without: every city's.",
)
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
def set_(level, city_code, location_code, item_code, min_months, max_months, valid_from) -> None:
    """Set a norm for a level (of one city or every city), a location, or a location and item
    (dated, logged)."""
    from ledger.services.norms import set_norm

    done = set_norm(
        ledger_database(),
        min_months,
        max_months,
        level=level,
        city_code=city_code,
        location_code=location_code,
        item_code=item_code,
        valid_from=valid_from.date() if valid_from else None,
    )
    if done.level:
        scope = f"{done.level}（{done.city_code or '全部城市'}）"
    else:
        scope = " ".join(code for code in (done.location_code, done.item_code) if code)
    click.echo(
        f"库存定额 {scope}: {done.min_months}–{done.max_months} 个月，自 {done.valid_from} 起"
    )


@norms.command("show")
@click.option(
    "--under",
    help="Only the norms of places under this location (and the level norms of its city and "
    "of every city).",
)
@click.option(
    "--city",
    "city_code",
    help="The levels' norms in force in this city (default: every city's level norms).",
)
@click.option("--location", "location_code", help="With --item: the norm in force there.")
@click.option("--item", "item_code")
@click.option("--on", "on", type=click.DateTime(formats=["%Y-%m-%d"]), help="Default today.")
def show(under, city_code, location_code, item_code, on) -> None:
    """Each level's norm in force and where it comes from, every norm set, or (--location and
    --item) the one in force there on a day and where it comes from."""
    from ledger.services.norms import LEVEL_NAMES, levels_in_force, norm_of, norms_set

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
    in_force = [
        (
            f"{LEVEL_NAMES[LocationLevel(level)]}（{level}）",
            f"{norm.min_months}–{norm.max_months}",
            NORM_SOURCE_NAMES[norm.source],
        )
        for level, norm in levels_in_force(database, city_code, day)
    ]
    click.echo(f"各级定额（{city_code or '全部城市'}，{day}）:")
    click.echo(text_table(("级别", "月数", "来源"), in_force))
    rows = [
        (
            str(n.id),
            n.level or "",
            n.city_code or ("全部城市" if n.level else ""),
            n.location_code or "",
            n.item_code or "全部",
            f"{n.min_months}–{n.max_months}",
            str(n.valid_from),
            n.set_by,
        )
        for n in norms_set(database, under)
    ]
    header = ("#", "级别", "城市", "库点", "物资", "月数", "生效日期", "设定人")
    click.echo(text_table(header, rows))
