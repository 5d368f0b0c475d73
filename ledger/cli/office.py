"""The office's own commands: the schema, `init`, the demo, backups, imports and the server (users:
ledger/cli/users.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ledger.cli.base import ledger_database, main, output_path, write_output
from ledger.rules import Code, LedgerError
from ledger.settings import Settings


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest revision."""
    from ledger.services.database import schema_revision

    database = ledger_database(must_exist=False)
    database.upgrade()
    click.echo(f"schema at revision {schema_revision(database)}")


@main.command("init")
@click.option("--root-code", required=True, help="The city's code (行政区划代码), e.g. 510100.")
@click.option("--root-name", required=True, help="The city's name, e.g. 成都市.")
@click.option(
    "--admin",
    "admin_label",
    required=True,
    help="The first admin's label, e.g. 市宣传中心系统管理员.",
)
def init(root_code: str, root_name: str, admin_label: str) -> None:
    """Start a real office's ledger on an empty database: the schema, the city (the root) and
    its first admin, whose token is printed once (only a hash is stored)."""
    from ledger.services.setup import check_start, start_ledger

    check_start(root_code, root_name, admin_label)  # before a SQLite file is created
    database = ledger_database(must_exist=False)
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
    from ledger.services.database import ledger_size
    from ledger.services.demo import DEMO_PASSWORD, demo_login, load_demo

    database = ledger_database(must_exist=False)
    database.upgrade()
    transactions, _ = ledger_size(database)
    if transactions:
        if if_empty:
            click.echo(f"ledger already holds {transactions} transactions; demo not loaded")
            click.echo(
                f"the demo's names sign in to the 工作台 at / (e.g. clerk@510100, password "
                f"{DEMO_PASSWORD}) if this ledger is the demo"
            )
            return
        raise LedgerError(
            Code.ledger_not_empty,
            f"账本已有 {transactions} 张单据，演示数据只能载入空账本 (ledger not empty); "
            "use --if-empty, or point LEDGER_DATABASE_URL at a new database",
        )
    summary = load_demo(database)
    click.echo(
        f"demo loaded: {summary.locations} locations, {summary.items} items, "
        f"{summary.transactions} transactions from {summary.start} to {summary.end}"
    )
    click.echo("demo API tokens (Authorization: Bearer <token>):")
    for label, who, token in summary.tokens:
        click.echo(f"  {who:<22} {token}  {label}")
    click.echo(f"demo sign-in to the 工作台 at / (password for every name: {DEMO_PASSWORD}):")
    for label, who, _ in summary.tokens:
        click.echo(f"  {demo_login(*who.split('@'))}  {label}")


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
    database = ledger_database()
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

    ledger_database(must_exist=False).dispose()  # the URL checked, nothing connected or created
    url = make_url(Settings.from_environment().database_url)
    with click.progressbar(length=1, label="verifying", file=sys.stderr) as bar:
        done = restore_backup(url, Path(file), progress=bar.update)
    where = done.path if done.engine == "sqlite" else url.database
    click.echo(f"restored {file} → {where} ({done.engine}, {done.seconds:.1f} s)")
    _backup_outcome(done)


def _verify_bar(database):
    from ledger.services.database import ledger_size

    total, _ = ledger_size(database)
    return click.progressbar(length=max(total, 1), label="copying and verifying", file=sys.stderr)


def _backup_outcome(done) -> None:
    """What verify found on the copy and, when it passed, the copy's checkpoint; exit 1 if not."""
    report = done.report
    for finding in report.findings:
        click.echo(
            f"[invariant {finding.invariant}] {finding.code}: {finding.subject}: {finding.message}"
        )
    click.echo(
        f"verify: {'OK' if report.ok else 'FAILED'}: {report.transactions_checked} transactions, "
        f"{report.postings_checked} postings, {len(report.findings)} findings"
    )
    if not report.ok:
        sys.exit(1)
    click.echo(f"checkpoint {done.checkpoint} (transaction #{done.sequence}, hash {done.hash})")


@main.group("import")
def import_group() -> None:
    """Master data and opening stock from spreadsheets (.xlsx or UTF-8 .csv)."""


def _import(kind: str, file: str, as_of=None) -> None:
    from ledger.services.import_common import ImportInvalid, progress_rows_min, read_table
    from ledger.services.imports import import_data

    path = Path(file)
    database = ledger_database()
    table = read_table(path)
    # A bar (on stderr) only for a file long enough to wait for.
    bar = click.progressbar(length=1, label=f"importing {kind}", file=sys.stderr)

    def length(n: int) -> None:
        bar.length = max(n, 1)

    large = len(table) > progress_rows_min
    try:
        with bar if large else _no_bar():
            done = import_data(
                database,
                kind,
                path.name,
                table,
                progress=bar.update if large else None,
                length=length if large else None,
                as_of=as_of,
            )
    except ImportInvalid as error:
        click.echo(f"error: {error.code}: {error.message}", err=True)
        for problem in error.problems:
            click.echo(f"  {problem.line()}", err=True)
        sys.exit(2)
    if done.ignored_columns:
        click.echo(f"ignored columns (未导入的列，系统不认得): {'、'.join(done.ignored_columns)}")
    if kind == "opening-balances":
        _openings_outcome(path.name, done)
        return
    click.echo(
        f"{path.name}: {len(done.added)} added, {len(done.updated)} updated, "
        f"{done.unchanged} unchanged (新增 {len(done.added)}，更新 {len(done.updated)}，"
        f"未变 {done.unchanged})"
    )
    for line in done.updated:
        click.echo(f"  updated {line}")
    if not done.changed:
        click.echo(
            "nothing changed: every row is already in the ledger as in the file (没有任何改动)"
        )


def _no_bar():
    from contextlib import nullcontext

    return nullcontext()


def _openings_outcome(name: str, done) -> None:
    lines = sum(p.lines for p in done.posted)
    click.echo(
        f"{name}: {len(done.posted)} openings posted ({lines} lines), {len(done.skipped)} "
        f"locations already opened as in the file (建账 {len(done.posted)} 个库点、{lines} 行；"
        f"{len(done.skipped)} 个库点已有相同的期初，跳过)"
    )
    for posted in done.posted:
        totals = " + ".join(f"{quantity:,} {unit}" for unit, quantity in posted.totals.items())
        click.echo(
            f"  {posted.number} {posted.location_code} {posted.location_name}: "
            f"{posted.lines} lines, {totals}"
        )
    if not done.changed:
        click.echo(
            "nothing changed: every location's opening is already in the ledger as in the file "
            "(没有任何改动)"
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


@import_group.command("opening-balances")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--as-of",
    "as_of",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day the office starts its ledger (建账日期), e.g. 2026-01-01.",
)
def import_opening_balances(file: str, as_of) -> None:
    """期初余额: 库点编码/location_code, 物资编码/item_code, 批号/batch_number,
    有效期至/expires_on, 数量/quantity, 单位/unit, 生产日期/produced_on; one opening voucher
    (QC) per location, dated --as-of, all in one database transaction."""
    _import("opening-balances", file, as_of.date())


@import_group.command("template")
@click.argument("kind", type=click.Choice(["locations", "items", "opening-balances"]))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="e.g. 库点模板.xlsx")
def import_template(kind: str, out: str) -> None:
    """An empty .xlsx template: headers, a 说明 sheet and drop-down lists."""
    from ledger.services.import_templates import template

    path = output_path(out, ("xlsx",))
    write_output(path, template(kind))
    click.echo(f"template for {kind} → {out}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--access-log/--no-access-log", default=False, show_default=True, help="Log every request."
)
@click.option(
    "--certfile",
    help="Serve HTTPS with this certificate (PEM; or LEDGER_TLS_CERTFILE), e.g. tls/server.crt.",
)
@click.option(
    "--keyfile",
    help="The certificate's private key (PEM, not encrypted; or LEDGER_TLS_KEYFILE).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (uvicorn), e.g. one per core; SQLite and PostgreSQL alike.",
)
def serve(
    host: str,
    port: int,
    access_log: bool,
    certfile: str | None,
    keyfile: str | None,
    workers: int,
) -> None:
    """Start the HTTP service (Litestar on uvicorn); HTTPS with --certfile and --keyfile (phone
    cameras and the scan page's offline mode need HTTPS: docs/https.md). With --workers N, N
    processes share the port; what each keeps in memory is checked against the database
    (docs/workers.md)."""
    import uvicorn

    from ledger.settings import office_zone

    settings = Settings.from_environment()
    office_zone(settings.time_zone)
    tls = _tls_files(certfile or settings.tls_certfile, keyfile or settings.tls_keyfile)
    database = ledger_database(must_exist=False)
    database.upgrade()
    database.dispose()
    processes: dict[str, Any] = {}
    if workers > 1:
        _metrics_of_every_worker()
        processes["workers"] = workers
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
        **processes,
        **tls,
    )


def _metrics_of_every_worker() -> None:
    """/metrics adds up every worker's figures (prometheus-client's multiprocess mode): in
    PROMETHEUS_MULTIPROC_DIR when it is set (empty it at each start), else in a new empty
    temporary directory of this start."""
    import os
    import tempfile

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="ledger-metrics-")


def _tls_files(certfile: str | None, keyfile: str | None) -> dict[str, Any]:
    """uvicorn's ssl_certfile and ssl_keyfile, checked before anything starts; none for HTTP."""
    if certfile is None and keyfile is None:
        return {}
    if certfile is None or keyfile is None:
        missing = "--certfile" if certfile is None else "--keyfile"
        raise LedgerError(
            Code.invalid_usage,
            f"HTTPS 需要同时给出 --certfile 和 --keyfile，缺少 {missing}（或 LEDGER_TLS_CERTFILE / "
            f"LEDGER_TLS_KEYFILE） (both or neither: {missing} is missing)",
            missing.lstrip("-"),
        )
    import datetime as dt

    from ledger.services.tls import check_pair

    certificate = check_pair(certfile, keyfile)
    until = f"{certificate.not_after:%Y-%m-%d}"
    click.echo(
        f"HTTPS: 证书适用于 {', '.join(certificate.names) or '(no subjectAltName)'}，有效期至 "
        f"{until} (certificate for these names, valid until {until})"
    )
    if certificate.not_after <= dt.datetime.now(dt.UTC):
        click.echo(
            f"warning: 证书已于 {until} 过期，浏览器会拒绝连接；用 `ledger tls make` 续签 "
            "(the certificate has expired)",
            err=True,
        )
    return {"ssl_certfile": certfile, "ssl_keyfile": keyfile}
