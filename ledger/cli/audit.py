"""The auditors' commands: verify, digest, period closes and the operations log."""

from __future__ import annotations

import sys

import click

from ledger.cli.base import ledger_database, main, text_table
from ledger.limits import offset_max, page_size_max
from ledger.settings import office_today


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
    from ledger.history import parse_checkpoint
    from ledger.services.audit import transactions_to_verify, verify_ledger

    wanted = [parse_checkpoint(text, "--checkpoint") for text in checkpoints]
    database = ledger_database()
    # refused before the progress bar starts: the error stays one line
    total = transactions_to_verify(database, since_close, root_code)
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
    from ledger.services.audit import close_books

    close = close_books(ledger_database(), period_end.date(), None, office_today(), root_code)
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
    from ledger.history import format_checkpoint
    from ledger.services.lookups import chain_head

    sequence, head = chain_head(ledger_database())
    click.echo(format_checkpoint(sequence, head, 64 if full else 16))
    click.echo(f"transaction #{sequence}, hash {head}", err=True)


@main.command("log")
@click.option("--action", help="An action or its prefix, e.g. user, stocktake.approve.")
@click.option("--object-type", help="e.g. user, stocktake, request, scan_document, batch.")
@click.option("--object", "object_key", help="The object's key, e.g. PD-2026-000001.")
@click.option("--user", "user_id", type=int, help="Only what this user id did.")
@click.option("--root", "root_code", help="Only the entries of this city (default: every entry).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, page_size_max))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0, offset_max))
def log_command(action, object_type, object_key, user_id, root_code, limit, offset) -> None:
    """操作日志: every action that is not a movement, newest first."""
    from ledger.services.audit_log import LogFilter, read_log

    database = ledger_database()
    entries = read_log(
        database,
        root_code,
        LogFilter(action, object_type, object_key, user_id),
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
    click.echo(text_table(("时间 (UTC)", "操作人", "操作", "对象", "变更前", "变更后"), rows))
    if not rows:
        click.echo("(没有记录 no entries)")


def _compact(value) -> str:
    if value is None:
        return ""
    import msgspec

    return msgspec.json.encode(value).decode()
