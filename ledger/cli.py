"""The `ledger` command: database set-up, demo data, balances, verification and the server."""

from __future__ import annotations

import sys

import click

from ledger.rules import LedgerError
from ledger.settings import Settings


def _database():
    from ledger.db.unit_of_work import Database

    return Database.from_url(Settings.from_environment().database_url)


def _ensure_schema(database) -> None:
    from ledger.db.engine import current_revision

    if current_revision(database.engine) is None:
        raise click.ClickException(
            "数据库尚未初始化 (database not initialised): run `ledger db upgrade`"
        )


@click.group()
def main() -> None:
    """宣传品与计生药具 stock ledger."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest revision."""
    from ledger.db.engine import current_revision

    database = _database()
    database.upgrade()
    click.echo(f"schema at revision {current_revision(database.engine)}")


@main.group()
def demo() -> None:
    """Demo data from the seed documents."""


@demo.command("load")
@click.option(
    "--if-empty", is_flag=True, help="Load only into an empty ledger; otherwise do nothing."
)
def demo_load(if_empty: bool) -> None:
    """Load the demo city (成都市, 20 区(市)县, townships, villages) and four months of movements."""
    from ledger.db import queries
    from ledger.services.demo import load_demo
    from ledger.services.ledger import Ledger

    database = _database()
    database.upgrade()
    with database.read() as connection:
        transactions, _ = queries.counts(connection)
    if transactions:
        if if_empty:
            click.echo(f"ledger already holds {transactions} transactions; demo not loaded")
            return
        raise click.ClickException(
            f"账本已有 {transactions} 张单据，演示数据只能载入空账本 (ledger not empty); "
            "use --if-empty, or point LEDGER_DATABASE_URL at a new database"
        )
    summary = load_demo(Ledger(database))
    click.echo(
        f"demo loaded: {summary.locations} locations, {summary.items} items, "
        f"{summary.transactions} transactions from {summary.start} to {summary.end}"
    )
    click.echo("demo API tokens (Authorization: Bearer <token>):")
    for label, who, token in summary.tokens:
        click.echo(f"  {who:<22} {token}  {label}")


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
    from ledger.db import queries

    database = _database()
    _ensure_schema(database)
    day = as_of.date() if as_of else None

    def check_codes(store) -> None:
        if location_code:
            store.location(location_code)
        if item_code:
            item = store.item(item_code)
            if batch_number:
                store.batch(item, batch_number)

    database.lookup(check_codes)
    with database.read() as connection:
        lines = queries.balances(connection, location_code, item_code, batch_number, day, virtual)
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
    click.echo(_table(header, rows))
    click.echo(f"{len(rows)} 行 (rows){' as of ' + str(day) if day else ''}")


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    import unicodedata

    def width(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    widths = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(header)]

    def line(cells) -> str:
        return "  ".join(
            cell + " " * (w - width(cell)) for cell, w in zip(cells, widths, strict=True)
        )

    return "\n".join([line(header), *(line(r) for r in rows)])


@main.command()
@click.option(
    "--since-close",
    is_flag=True,
    help="Only what was posted after the last period close (月结), from its balances.",
)
def verify(since_close: bool) -> None:
    """Re-check all six invariants over the whole ledger; exit 1 if anything is wrong."""
    from ledger.db import closes, queries
    from ledger.services.audit import verify_ledger

    database = _database()
    _ensure_schema(database)
    with database.read() as connection:
        total, _ = queries.counts(connection)
        last = closes.last_close(connection) if since_close else None
        if last is not None:
            total = closes.transactions_after(connection, last.sequence)
    with click.progressbar(length=max(total, 1), label="verifying", file=sys.stderr) as bar:
        report = verify_ledger(database, progress=bar.update, since_close=since_close)
    for finding in report.findings:
        detail = (
            f" (expected {finding.expected}, found {finding.found})" if finding.expected else ""
        )
        click.echo(
            f"[invariant {finding.invariant}] {finding.code}: {finding.subject}: {finding.message}{detail}"
        )
    if report.since_period_end is not None:
        click.echo(f"since the close of {report.since_period_end} (#{report.from_sequence})")
    click.echo(
        f"{'OK' if report.ok else 'FAILED'}: {report.transactions_checked} transactions, "
        f"{report.postings_checked} postings, {len(report.findings)} findings; "
        f"digest #{report.digest_sequence} {report.digest_hash}"
    )
    if not report.ok:
        sys.exit(1)


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
        ]
    ),
)
@click.option("--under", default="510100", show_default=True, help="Top of the subtree.")
@click.option("--from", "date_from", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--to", "date_to", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--item", "item_code")
@click.option("--location", "location_code", help="stock-card: the location.")
@click.option("--batch", "batch_number", help="stock-card: the batch.")
@click.option("--days", default=90, show_default=True, help="near-expiry: days ahead.")
@click.option("--size", default=30, show_default=True, help="audit-sample: accounts.")
@click.option("--seed", default=0, show_default=True, help="audit-sample: random seed.")
@click.option(
    "--format", "format_", type=click.Choice(["csv", "xlsx", "html", "json"]), default="xlsx"
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
    format_,
    out,
) -> None:
    """Write a report (收发存汇总表, 明细账, 库存余额 …) as XLSX, CSV, HTML or JSON."""
    import datetime as dt

    from ledger.services import reports
    from ledger.services.report_formats import render

    database = _database()
    _ensure_schema(database)
    today = dt.date.today()
    first = date_from.date() if date_from else today.replace(day=1)
    last = date_to.date() if date_to else today
    builders = {
        "period-summary": lambda s: reports.period_summary(s, under, first, last, item_code),
        "stock-card": lambda s: reports.stock_card(
            s, location_code or under, item_code or "", batch_number or "", first, last
        ),
        "stock-on-hand": lambda s: reports.stock_on_hand(
            s, under, as_of.date() if as_of else None, item_code
        ),
        "near-expiry": lambda s: reports.near_expiry(s, under, days, today),
        "coverage": lambda s: reports.coverage(s, under, item_code or "", first, last),
        "in-transit": lambda s: reports.in_transit(s, under, today),
        "write-off-rate": lambda s: reports.write_off_rate(s, under, first, last),
        "audit-sample": lambda s: reports.audit_sample(s, under, size, seed, today),
    }
    # Reading is one query per figure set, so its bar moves once; writing moves per row.
    with click.progressbar(length=1, label="reading the ledger", file=sys.stderr) as bar:
        made = database.lookup(builders[name])
        bar.update(1)
    with click.progressbar(
        length=max(len(made.rows), 1), label=f"writing {format_}", file=sys.stderr
    ) as bar:
        data = render(made, format_, progress=bar.update)
    with open(out, "wb") as handle:
        handle.write(data)
    click.echo(f"{made.title}: {len(made.rows)} rows → {out}")


@main.command("close-period")
@click.argument("period_end", type=click.DateTime(formats=["%Y-%m-%d"]))
def close_period_command(period_end) -> None:
    """月结: close the books through PERIOD_END (YYYY-MM-DD); nothing may be posted on or
    before it afterwards, and `verify --since-close` starts there."""
    import datetime as dt

    from ledger.services.audit import close_period

    database = _database()
    _ensure_schema(database)
    today = dt.date.today()
    close = database.write(lambda store: close_period(store, period_end.date(), None, today))
    click.echo(
        f"closed through {close.period_end}: digest #{close.sequence} {close.hash}, "
        f"{close.accounts} account balances kept"
    )


@main.group()
def users() -> None:
    """API users: a role at a location, with a bearer token."""


@users.command("add")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "clerk", "requester", "approver", "auditor"]),
)
@click.option("--location", "location_code", required=True, help="Location code, e.g. 510121.")
@click.option("--label", required=True, help="What the account is for, e.g. 金堂县仓库保管员.")
def users_add(role: str, location_code: str, label: str) -> None:
    """Create a user and print its token once (only a hash is stored)."""
    from ledger.services.users import add_user

    database = _database()
    _ensure_schema(database)
    user, token = add_user(database, label, role, location_code)
    click.echo(f"user {user.id}: {user.role}@{user.location_code} {user.label}")
    click.echo(f"token (shown once): {token}")


@users.command("list")
def users_list() -> None:
    """Every user, active or revoked."""
    from ledger.services.users import list_users

    database = _database()
    _ensure_schema(database)
    rows = [
        (
            str(u.id),
            u.role,
            f"{u.location_name}({u.location_code})",
            u.label,
            "revoked" if u.revoked else "active",
        )
        for u in list_users(database)
    ]
    click.echo(_table(("id", "角色", "库点", "用途", "状态"), rows))


@users.command("revoke")
@click.argument("user_id", type=int)
def users_revoke(user_id: int) -> None:
    """Revoke a user's token: it stops working at once."""
    from ledger.services.users import revoke_user

    database = _database()
    _ensure_schema(database)
    user = revoke_user(database, user_id)
    click.echo(f"user {user.id} ({user.role}@{user.location_code}) revoked")


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
    if not batch or not out:
        raise click.UsageError("give --batch ITEM/BATCH and --out FILE.pdf")
    import time

    from ledger.services import label_keys
    from ledger.services.label_sheets import Grid
    from ledger.services.ledger import Ledger
    from ledger.services.scanning import Scanning

    item_code, separator, batch_number = batch.partition("/")
    columns, _, rows = grid.lower().partition("x")
    if not separator or not columns.isdigit() or not rows.isdigit():
        raise click.UsageError("--batch is ITEM/BATCH and --grid is COLUMNSxROWS, e.g. 3x8")
    sheet_grid = Grid(int(columns), int(rows), margin_mm)
    try:
        sheet_grid.check()
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    database = _database()
    _ensure_schema(database)
    keys = label_keys.load(Settings.from_environment())
    scanning = Scanning(Ledger(database), keys)
    started = time.perf_counter()
    packs = scanning.packs(item_code, batch_number, location_code)
    sheet = scanning.sheet(item_code, batch_number, location_code, sheet_grid)
    with open(out, "wb") as handle:
        handle.write(sheet)
    pages = -(-len(packs) // (sheet_grid.columns * sheet_grid.rows)) or 1
    click.echo(
        f"{len(packs)} labels on {pages} pages → {out} "
        f"({len(sheet) / 1e6:.1f} MB, {time.perf_counter() - started:.1f} s)"
    )


@labels.command("rotate-key")
def labels_rotate_key() -> None:
    """Sign new labels with a fresh key; labels printed under older keys still verify."""
    from ledger.services import label_keys

    try:
        key_id = label_keys.rotate(Settings.from_environment())
    except label_keys.LabelKeyError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"new labels are signed with key {key_id}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--access-log/--no-access-log", default=False, show_default=True, help="Log every request."
)
def serve(host: str, port: int, access_log: bool) -> None:
    """Start the HTTP service (Litestar on uvicorn)."""
    import uvicorn

    database = _database()
    database.upgrade()
    database.dispose()
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
    )


def run() -> None:
    """Entry point: ledger rejections and database errors are one clear line, exit 2."""
    from ledger.db import DatabaseError

    try:
        main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        click.echo(f"error: {error.format_message()}", err=True)
        sys.exit(error.exit_code)
    except LedgerError as error:
        click.echo(f"error: {error.code}: {error.message}", err=True)
        sys.exit(2)
    except DatabaseError as error:
        first_line = str(
            error.orig if hasattr(error, "orig") and error.orig else error
        ).splitlines()[0]
        click.echo(f"error: database: {first_line}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    run()
