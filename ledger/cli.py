"""The `ledger` command: database set-up, demo data, balances, verification and the server.

Every failure is one line on stderr, `error: <code>: <message>`, with a non-zero exit status: 2
for input the ledger refuses (a rejection, a wrong option, a missing ledger or output folder),
1 for anything unexpected (LEDGER_DEBUG=1 shows its traceback instead). `verify` exits 1 when it
finds something.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ledger.rules import Code, LedgerError
from ledger.settings import Settings, office_today

NO_LEDGER_HINT = "先运行 `ledger db upgrade` 建立账本 (run `ledger db upgrade` first)"


def _database(must_exist: bool = True):
    """The ledger's database from LEDGER_DATABASE_URL. With `must_exist` (every command but
    those that create a ledger) a SQLite file that is not there is refused before anything is
    created, and so is a database without the ledger's schema."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from ledger.db.unit_of_work import Database

    url = Settings.from_environment().database_url
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LedgerError(
            Code.database_url_unsupported,
            f"LEDGER_DATABASE_URL 不是数据库地址：{url!r}，例如 sqlite:///./data/ledger.db 或 "
            "postgresql+psycopg://user@host/db (not a database URL)",
            "LEDGER_DATABASE_URL",
        ) from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise LedgerError(
            Code.database_url_unsupported,
            f"不支持的数据库 {backend!r}：只能用 sqlite 或 postgresql "
            f"(unsupported database {backend!r})",
            "LEDGER_DATABASE_URL",
        )
    if must_exist and backend == "sqlite":
        where = parsed.database or ""
        if where in ("", ":memory:") or not Path(where).is_file():
            raise LedgerError(
                Code.no_ledger,
                f"这里没有账本 {where or url}；{NO_LEDGER_HINT}",
                "LEDGER_DATABASE_URL",
            )
    try:
        database = Database.from_url(url)
    except (ArgumentError, ImportError, ValueError) as error:  # a driver that is not there …
        raise LedgerError(
            Code.database_url_unsupported,
            f"无法使用 LEDGER_DATABASE_URL (cannot use the database URL): {error}",
            "LEDGER_DATABASE_URL",
        ) from None
    if must_exist:
        _ensure_schema(database)
    return database


def _ensure_schema(database) -> None:
    from ledger.db.engine import current_revision

    if current_revision(database.engine) is None:
        raise LedgerError(Code.no_ledger, f"数据库里还没有账本；{NO_LEDGER_HINT}")


def _output(out: str, allowed: tuple[str, ...]) -> Path:
    """Where a file will be written: its folder must exist (checked before any work is done)."""
    path = Path(out)
    suffix = path.suffix.lower().lstrip(".")
    if suffix and suffix not in allowed:
        raise LedgerError(
            Code.invalid_usage,
            f"--out {out} 的扩展名 .{suffix} 与输出格式不符，可用 "
            f"{'、'.join('.' + a for a in allowed)} (--out does not match the format)",
            "out",
        )
    folder = path.parent
    if not folder.is_dir():
        raise LedgerError(
            Code.output_unwritable,
            f"无法写入 {out}：文件夹 {folder} 不存在 (no such folder)",
            "out",
        )
    return path


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as error:
        raise LedgerError(
            Code.output_unwritable,
            f"无法写入 {path}：{error.strerror or error} (cannot write the file)",
            "out",
        ) from None


@click.group()
def main() -> None:
    """宣传品与计生药具 stock ledger."""
    from ledger.settings import office_zone

    office_zone()  # a wrong LEDGER_TIME_ZONE stops every command, not only those using today


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest revision."""
    from ledger.db.engine import current_revision

    database = _database(must_exist=False)
    database.upgrade()
    click.echo(f"schema at revision {current_revision(database.engine)}")


@main.command("init")
@click.option("--root-code", required=True, help="The city's code (行政区划代码), e.g. 510100.")
@click.option("--root-name", required=True, help="The city's name, e.g. 成都市.")
@click.option(
    "--admin", "admin_label", required=True, help="The first admin's label, e.g. 市宣传中心系统管理员."
)
def init(root_code: str, root_name: str, admin_label: str) -> None:
    """Start a real office's ledger on an empty database: the schema, the city (the root) and
    its first admin, whose token is printed once (only a hash is stored)."""
    from ledger.services.setup import check_start, start_ledger

    check_start(root_code, root_name, admin_label)  # before a SQLite file is created
    database = _database(must_exist=False)
    started = start_ledger(database, root_code, root_name, admin_label)
    root, admin = started.root, started.admin
    click.echo(f"ledger initialised: schema at revision {started.revision}")
    click.echo(f"root: {root.code} {root.name} (市)")
    click.echo(
        f"admin: user {admin.id}: {admin.role}@{admin.location_code} {admin.label} "
        f"(the admin of {root.name}; not a global admin)"
    )
    click.echo(f"token (shown once): {started.token}")
    click.echo(
        "此令牌只显示这一次，账本只保存它的哈希，请现在妥善保存 "
        "(this token will not be shown again: only its hash is stored)"
    )


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

    database = _database(must_exist=False)
    database.upgrade()
    with database.read() as connection:
        transactions, _ = queries.counts(connection)
    if transactions:
        if if_empty:
            click.echo(f"ledger already holds {transactions} transactions; demo not loaded")
            return
        raise LedgerError(
            Code.ledger_not_empty,
            f"账本已有 {transactions} 张单据，演示数据只能载入空账本 (ledger not empty); "
            "use --if-empty, or point LEDGER_DATABASE_URL at a new database",
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
@click.option(
    "--root",
    "root_code",
    help="Verify one city (a root location) as its auditor sees it; needed with --since-close "
    "when the ledger holds several cities.",
)
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    metavar="N:HASH",
    help="A checkpoint kept outside the database (from `ledger digest` or a period close): "
    "prove the ledger still holds it. Repeatable.",
)
def verify(since_close: bool, root_code: str | None, checkpoints: tuple[str, ...]) -> None:
    """Re-check all six invariants over the whole ledger; exit 1 if anything is wrong."""
    from ledger.db import closes, queries
    from ledger.services.audit import root_to_close, verify_ledger
    from ledger.verify import parse_checkpoint

    wanted = [parse_checkpoint(text, "--checkpoint") for text in checkpoints]
    database = _database()
    with database.read() as connection:
        total, _ = queries.counts(connection)
        # refused before the progress bar starts: the error stays one line
        root = root_to_close(connection, root_code, "核验") if root_code else None
        if since_close and root is None and len(closes.roots(connection)) > 1:
            root_to_close(connection, None, "自上次月结以来核验")
        last = closes.last_close(connection, root.id if root else None) if since_close else None
        if last is not None:
            total = closes.transactions_after(connection, last.sequence)
    with click.progressbar(length=max(total, 1), label="verifying", file=sys.stderr) as bar:
        report = verify_ledger(
            database,
            progress=bar.update,
            since_close=since_close,
            root_code=root_code,
            checkpoints=wanted,
        )
    for finding in report.findings:
        detail = (
            f" (expected {finding.expected}, found {finding.found})" if finding.expected else ""
        )
        click.echo(
            f"[invariant {finding.invariant}] {finding.code}: {finding.subject}: {finding.message}{detail}"
        )
    if report.since_period_end is not None:
        click.echo(f"since the close of {report.since_period_end} (#{report.from_sequence})")
    if report.checkpoints and report.ok:
        click.echo(f"checkpoints held: {', '.join(report.checkpoints)}")
    if report.ok:  # a checkpoint of a ledger that failed would vouch for what failed
        click.echo(f"checkpoint {report.checkpoint} (keep it outside the database)")
    click.echo(
        f"{'OK' if report.ok else 'FAILED'}: {report.transactions_checked} transactions, "
        f"{report.postings_checked} postings, {len(report.findings)} findings; "
        f"digest #{report.digest_sequence} {report.digest_hash}"
    )
    if not report.ok:
        sys.exit(1)


REPORT_FORMATS = ("xlsx", "csv", "html", "json")
# The options a report cannot do without (besides --out).
REPORT_NEEDS = {
    "stock-card": (("item_code", "--item"), ("batch_number", "--batch")),
    "coverage": (("item_code", "--item"),),
}


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
@click.option(
    "--days",
    default=90,
    show_default=True,
    type=click.IntRange(0, 3650),
    help="near-expiry: days ahead.",
)
@click.option(
    "--size",
    default=30,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="audit-sample: accounts.",
)
@click.option("--seed", default=0, show_default=True, help="audit-sample: random seed.")
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
    format_,
    out,
) -> None:
    """Write a report (收发存汇总表, 明细账, 库存余额 …) as XLSX, CSV, HTML or JSON."""
    from ledger.services import reports
    from ledger.services.report_formats import render

    given = {"item_code": item_code, "batch_number": batch_number}
    for key, option in REPORT_NEEDS.get(name, ()):
        if not given[key]:
            raise LedgerError(
                Code.invalid_usage, f"{name} 需要选项 {option} (missing option {option})", key
            )
    suffix = Path(out).suffix.lower().lstrip(".")
    if format_ is None:
        format_ = suffix if suffix in REPORT_FORMATS else "xlsx"
    path = _output(out, (format_,))
    today = office_today()
    first = date_from.date() if date_from else today.replace(day=1)
    last = date_to.date() if date_to else today
    if first > last:
        raise LedgerError(
            Code.invalid_usage, f"--from {first} 晚于 --to {last} (from after to)", "date_from"
        )
    database = _database()

    def check_codes(store) -> None:
        """Every code the report names, looked up before it is read (and any bar shown)."""
        store.location(under, "under")
        if location_code:
            store.location(location_code, "location")
        if item_code:
            item = store.item(item_code, "item")
            if batch_number:
                store.batch(item, batch_number, "batch")

    database.lookup(check_codes)
    builders = {
        "period-summary": lambda s: reports.period_summary(s, under, first, last, item_code),
        "stock-card": lambda s: reports.stock_card(
            s, location_code or under, item_code, batch_number, first, last
        ),
        "stock-on-hand": lambda s: reports.stock_on_hand(
            s, under, as_of.date() if as_of else None, item_code
        ),
        "near-expiry": lambda s: reports.near_expiry(s, under, days, today),
        "coverage": lambda s: reports.coverage(s, under, item_code, first, last),
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
    _write(path, data)
    click.echo(f"{made.title}: {len(made.rows)} rows → {out}")


@main.command("close-period")
@click.argument("period_end", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option(
    "--root",
    "root_code",
    help="The city (root location) to close; needed when the ledger holds several.",
)
def close_period_command(period_end, root_code: str | None) -> None:
    """月结: close a city's books through PERIOD_END (YYYY-MM-DD); nothing at its locations may
    be posted on or before it afterwards, and `verify --since-close` starts there. Other cities
    in the same ledger are not touched."""
    from ledger.services.audit import close_period

    database = _database()
    today = office_today()
    close = database.write(
        lambda store: close_period(store, period_end.date(), None, today, root_code)
    )
    click.echo(
        f"{close.root_code} closed through {close.period_end}: "
        f"digest #{close.sequence} {close.hash}, "
        f"{close.accounts} account balances kept"
    )
    click.echo(
        f"checkpoint {close.checkpoint} — keep it outside the database (on the close report); "
        f"`ledger verify --checkpoint {close.checkpoint}` proves the ledger still holds it"
    )


@main.command()
@click.option("--full", is_flag=True, help="The whole hash (64 hex characters), not its first 16.")
def digest(full: bool) -> None:
    """The chain head as a checkpoint, N:HASH, to keep outside the database (printed, mailed,
    filed): `ledger verify --checkpoint N:HASH` later proves the ledger still holds it."""
    from ledger.db import queries
    from ledger.verify import format_checkpoint

    database = _database()
    with database.read() as connection:
        sequence, head = queries.checkpoint_head(connection)
    click.echo(format_checkpoint(sequence, head, 64 if full else 16))
    click.echo(f"transaction #{sequence}, hash {head}", err=True)


@main.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    required=True,
    help="The new backup file (never overwritten), e.g. ledger-2026-11-26.backup.",
)
def backup(out: str) -> None:
    """A consistent copy of the running ledger (SQLite: the online backup API; PostgreSQL:
    pg_dump, custom format), verified, with its checkpoint; exit 1 if the copy fails verify."""
    from ledger.services.backup import backup as make_backup

    path = Path(out)
    if not path.parent.is_dir():
        raise LedgerError(
            Code.output_unwritable,
            f"无法写入 {out}：文件夹 {path.parent} 不存在 (no such folder)",
            "out",
        )
    database = _database()
    try:
        with _verify_bar(database) as bar:
            done = make_backup(database, path, progress=bar.update)
    finally:
        database.dispose()
    click.echo(f"backup → {out} ({done.engine}, {done.size / 1e6:.1f} MB, {done.seconds:.1f} s)")
    _backup_outcome(done)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def restore(file: str) -> None:
    """Restore a backup FILE into the empty database of LEDGER_DATABASE_URL, verify it and print
    its checkpoint; refused (ledger_not_empty) when that database holds anything."""
    from sqlalchemy.engine import make_url

    from ledger.services.backup import restore as restore_backup

    _database(must_exist=False).dispose()  # the URL checked, nothing connected or created
    url = make_url(Settings.from_environment().database_url)
    with click.progressbar(length=1, label="verifying", file=sys.stderr) as bar:
        done = restore_backup(url, Path(file), progress=bar.update)
    where = done.path if done.engine == "sqlite" else url.database
    click.echo(f"restored {file} → {where} ({done.engine}, {done.seconds:.1f} s)")
    _backup_outcome(done)


def _verify_bar(database):
    from ledger.db import queries

    with database.read() as connection:
        total, _ = queries.counts(connection)
    return click.progressbar(length=max(total, 1), label="copying and verifying", file=sys.stderr)


def _backup_outcome(done) -> None:
    """What verify found on the copy and, when it passed, the copy's checkpoint; exit 1 if not."""
    report = done.report
    for finding in report.findings:
        click.echo(f"[invariant {finding.invariant}] {finding.code}: {finding.subject}: {finding.message}")
    click.echo(
        f"verify: {'OK' if report.ok else 'FAILED'}: {report.transactions_checked} transactions, "
        f"{report.postings_checked} postings, {len(report.findings)} findings"
    )
    if not report.ok:
        sys.exit(1)
    click.echo(f"checkpoint {done.checkpoint} (transaction #{done.sequence}, hash {done.hash})")


@main.group("import")
def import_group() -> None:
    """Master data from spreadsheets (.xlsx or UTF-8 .csv): locations and items."""


def _import(kind: str, file: str) -> None:
    from ledger.services.imports import ImportInvalid, import_file

    path = Path(file)
    database = _database()
    bar = click.progressbar(length=1, label=f"importing {kind}", file=sys.stderr)

    def length(n: int) -> None:
        bar.length = max(n, 1)

    try:
        with bar:
            done = import_file(database, kind, path, progress=bar.update, length=length)
    except ImportInvalid as error:
        click.echo(f"error: {error.code}: {error.message}", err=True)
        for problem in error.problems:
            click.echo(f"  {problem.line()}", err=True)
        sys.exit(2)
    click.echo(
        f"{path.name}: {len(done.added)} added, {len(done.updated)} updated, "
        f"{done.unchanged} unchanged (新增 {len(done.added)}，更新 {len(done.updated)}，"
        f"未变 {done.unchanged})"
    )
    for line in done.updated:
        click.echo(f"  updated {line}")
    if not done.added and not done.updated:
        click.echo(
            "nothing changed: every row is already in the ledger as in the file (没有任何改动)"
        )


@import_group.command("locations")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_locations(file: str) -> None:
    """库点: 编码/code, 名称/name, 上级编码/parent_code, 级别/level, 人口/population."""
    _import("locations", file)


@import_group.command("items")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_items(file: str) -> None:
    """物资: 编码/code, 名称/name, 类别/category, 品种/variety, 单位/unit, 包装/packs,
    有效期管理/tracks_expiry."""
    _import("items", file)


@import_group.command("template")
@click.argument("kind", type=click.Choice(["locations", "items"]))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="e.g. 库点模板.xlsx")
def import_template(kind: str, out: str) -> None:
    """An empty .xlsx template: headers, a 说明 sheet and drop-down lists."""
    from ledger.services.imports import template

    path = _output(out, ("xlsx",))
    _write(path, template(kind))
    click.echo(f"template for {kind} → {out}")


@main.group()
def users() -> None:
    """API users: a role at a location, with a bearer token."""


@users.command("add")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "clerk", "requester", "approver", "auditor"]),
)
@click.option("--location", "location_code", help="Location code, e.g. 510121.")
@click.option("--label", required=True, help="What the account is for, e.g. 金堂县仓库保管员.")
@click.option(
    "--global",
    "global_admin",
    is_flag=True,
    help="An admin of every city in the ledger (no --location); a city's admin reaches only "
    "its city.",
)
def users_add(role: str, location_code: str | None, label: str, global_admin: bool) -> None:
    """Create a user and print its token once (only a hash is stored)."""
    from ledger.services.users import add_user

    database = _database()
    user, token = add_user(database, label, role, location_code, global_admin=global_admin)
    where = "every city" if user.is_global else user.location_code
    click.echo(f"user {user.id}: {user.role}@{where} {user.label}")
    click.echo(f"token (shown once): {token}")


@users.command("list")
def users_list() -> None:
    """Every user, active or revoked."""
    from ledger.services.users import list_users

    database = _database()
    rows = [
        (
            str(u.id),
            u.role,
            "全部市 (global)" if u.is_global else f"{u.location_name}({u.location_code})",
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
    for value, option, form in ((batch, "--batch", "ITEM/BATCH"), (out, "--out", "FILE.pdf")):
        if not value:
            raise LedgerError(
                Code.invalid_usage,
                f"需要选项 {option} {form} (missing option {option})",
                option.lstrip("-"),
            )
    import time

    from ledger.services import label_keys
    from ledger.services.label_sheets import Grid
    from ledger.services.ledger import Ledger
    from ledger.services.scanning import Scanning

    item_code, separator, batch_number = batch.partition("/")
    columns, _, rows = grid.lower().partition("x")
    if not separator or not columns.isdigit() or not rows.isdigit():
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
    path = _output(out, ("pdf",))
    database = _database()
    keys = label_keys.load(Settings.from_environment())
    scanning = Scanning(Ledger(database), keys)
    started = time.perf_counter()
    packs = scanning.packs(item_code, batch_number, location_code)
    sheet = scanning.sheet(item_code, batch_number, location_code, sheet_grid)
    _write(path, sheet)
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
        database = _database()
    except LedgerError as error:
        if error.code != Code.no_ledger:
            raise
        return  # no ledger here to log it in (nothing is created for that)
    if _has_schema(database):
        from ledger.db import oplog

        def work(store) -> None:
            oplog.record(
                store,
                "label_key.rotate",
                "label_key",
                key_id,
                user_id=None,
                after={"signing_key": key_id},
            )

        database.write(work)
    database.dispose()


def _has_schema(database) -> bool:
    from ledger.db.engine import current_revision

    return current_revision(database.engine) is not None


@main.command("log")
@click.option("--action", help="An action or its prefix, e.g. user, stocktake.approve.")
@click.option("--object-type", help="e.g. user, stocktake, request, scan_document, batch.")
@click.option("--object", "object_key", help="The object's key, e.g. PD-2026-000001.")
@click.option("--user", "user_id", type=int, help="Only what this user id did.")
@click.option("--root", "root_code", help="Only the entries of this city (default: every entry).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 200))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0, 10_000_000))
def log_command(action, object_type, object_key, user_id, root_code, limit, offset) -> None:
    """操作日志: every action that is not a movement, newest first."""
    from ledger.services.audit_log import read_log

    database = _database()
    entries = read_log(
        database,
        root_code,
        action=action,
        object_type=object_type,
        object_key=object_key,
        user_id=user_id,
        limit=limit,
        offset=offset,
    )
    rows = [
        (
            entry.at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.actor,
            entry.action,
            f"{entry.object_type} {entry.object_key}",
            _compact(entry.before),
            _compact(entry.after),
        )
        for entry in entries
    ]
    click.echo(_table(("时间 (UTC)", "操作人", "操作", "对象", "变更前", "变更后"), rows))
    if not rows:
        click.echo("(没有记录 no entries)")


def _compact(value) -> str:
    if value is None:
        return ""
    import msgspec

    return msgspec.json.encode(value).decode()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--access-log/--no-access-log", default=False, show_default=True, help="Log every request."
)
def serve(host: str, port: int, access_log: bool) -> None:
    """Start the HTTP service (Litestar on uvicorn)."""
    import uvicorn

    from ledger.settings import office_zone

    office_zone(Settings.from_environment().time_zone)
    database = _database(must_exist=False)
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


def _usage_message(error: click.ClickException) -> str:
    """A wrong command line in Chinese, naming the option, with click's own words beside it."""
    param = getattr(error, "param", None)
    name = None
    if param is not None:
        name = param.opts[0] if isinstance(param, click.Option) else param.human_readable_name
    english = error.format_message()
    if isinstance(error, click.MissingParameter) and name:
        return f"缺少选项 {name} (missing option {name})"
    if isinstance(error, click.BadParameter) and name:
        return f"{name} 的值不对 (invalid value): {english}"
    if isinstance(error, click.NoSuchOption):
        return f"没有选项 {error.option_name} (no such option); 见 ledger --help"
    return f"命令用法不对 (usage): {english}; 见 ledger --help"


def _fail(code: Code | str, message: str, status: int) -> None:
    """One line on stderr, the whole of it (a message never spans lines), and exit."""
    text = " ".join(str(message).split())
    click.echo(f"error: {code}: {text}", err=True)
    sys.exit(status)


def run(args: list[str] | None = None) -> None:
    """Entry point: every error is one line, `error: <code>: <message>`; exit 2 for refused
    input, 1 for the unexpected (LEDGER_DEBUG=1 lets its traceback through)."""
    from ledger.db import DatabaseError
    from ledger.services.label_keys import LabelKeyError

    try:
        status = main(args, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        if type(error).__name__ == "NoArgsIsHelpError":  # `ledger` (or a group) alone
            click.echo(error.format_message())
            sys.exit(0)
        _fail(Code.invalid_usage, _usage_message(error), 2)
    except LedgerError as error:
        _fail(error.code, error.message, 2)
    except LabelKeyError as error:
        _fail(Code.label_keys_invalid, f"标签密钥不可用 (label keys): {error}", 2)
    except DatabaseError as error:
        if os.environ.get("LEDGER_DEBUG") == "1":
            raise
        orig = getattr(error, "orig", None)
        first_line = (str(orig or error).strip().splitlines() or [type(error).__name__])[0]
        _fail(Code.database_error, f"数据库出错 (database): {first_line}", 2)
    except Exception as error:
        if os.environ.get("LEDGER_DEBUG") == "1":
            raise
        detail = (str(error).strip().splitlines() or [""])[0]
        _fail(
            Code.internal_error,
            f"内部错误，请把这一行告诉维护人员；LEDGER_DEBUG=1 显示详情 "
            f"(unexpected {type(error).__name__}: {detail})",
            1,
        )
    if isinstance(status, int) and status:
        sys.exit(status)


if __name__ == "__main__":
    run()
