"""Every report's figures against an independent computation over the demo's postings, and the
exports (CSV, XLSX, HTML) carrying the Chinese headers."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from ledger.db import balance_queries, journal_queries, reference_queries
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.services import report_audit, report_stock, reports
from ledger.services.audit import close_period
from ledger.services.demo import load_demo
from ledger.services.report_formats import render
from ledger.services.users import list_users
from tests.bound import Ledger
from tests.clones import copy_sqlite
from tests.conftest import TODAY

START = TODAY - dt.timedelta(days=60)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo ledger (read-only here) and all its transactions, in order."""
    engine = make_engine(copy_sqlite(tmp_path_factory.mktemp("reports") / "demo.db"))
    ledger = Ledger(Database(engine), clock=lambda: TODAY)
    load_demo(ledger.database, ledger.clock())
    with ledger.database.read() as connection:
        transactions = list(journal_queries.stored_transactions(connection))
        paths = {
            row.code: row.path
            for row in reference_queries.locations(connection, include_virtual=True, limit=10_000)
        }
    yield ledger, transactions, paths
    engine.dispose()


def read(ledger, work):
    return ledger.database.lookup(work)


def physical_postings(transactions, paths, under):
    top = paths[under]
    for tx in transactions:
        for p in tx.postings:
            if p.physical and paths[p.location_code].startswith(top):
                yield tx, p


def test_period_summary_against_the_postings(demo):
    ledger, transactions, paths = demo
    report = read(ledger, lambda s: reports.period_summary(s, "510121", START, TODAY, rollup=False))
    expected: dict = {}
    for tx, p in physical_postings(transactions, paths, "510121"):
        row = expected.setdefault((p.location_code, p.item_code), {"opening": 0, "in": 0, "out": 0})
        if tx.occurred_on < START:
            row["opening"] += p.quantity
        elif tx.occurred_on <= TODAY:
            row["in" if p.quantity > 0 else "out"] += abs(p.quantity)
    got = {
        (r["location_code"], r["item_code"]): {
            "opening": r["opening"],
            "in": r["total_in"],
            "out": r["total_out"],
        }
        for r in report.records()
    }
    assert got == {key: row for key, row in expected.items() if any(row.values())}
    for record in report.records():
        assert record["opening"] + record["total_in"] - record["total_out"] == record["closing"]
        assert record["total_in"] == sum(record[k] for k, _, _ in reports.SUMMARY_IN)
        assert record["total_out"] == sum(record[k] for k, _, _ in reports.SUMMARY_OUT)


def test_the_roll_up_of_a_county_is_the_sum_of_its_places(demo):
    ledger, _, _ = demo
    flat = read(ledger, lambda s: reports.period_summary(s, "510121", START, TODAY, rollup=False))
    rolled = read(ledger, lambda s: reports.period_summary(s, "510121", START, TODAY))
    top = {r["item_code"]: r for r in rolled.records() if r["location_code"] == "510121"}
    for item, record in top.items():
        parts = [r for r in flat.records() if r["item_code"] == item]
        for key in ("opening", "total_in", "total_out", "closing"):
            assert record[key] == sum(r[key] for r in parts)
        assert record["scope"] == "含下级"


def test_the_identity_holds_across_a_period_close(tmp_path):
    engine = make_engine(copy_sqlite(tmp_path / "closed.db"))
    ledger = Ledger(Database(engine), clock=lambda: TODAY)
    load_demo(ledger.database, ledger.clock())
    before = read(ledger, lambda s: reports.period_summary(s, "510100", START, TODAY))
    middle = TODAY - dt.timedelta(days=20)
    ledger.database.write(lambda store: close_period(store, middle, None, TODAY))
    after = read(ledger, lambda s: reports.period_summary(s, "510100", START, TODAY))
    assert after.rows == before.rows
    first = read(ledger, lambda s: reports.period_summary(s, "510100", START, middle))
    second = read(
        ledger,
        lambda s: reports.period_summary(s, "510100", middle + dt.timedelta(days=1), TODAY),
    )
    closing = {(r["location_code"], r["item_code"]): r["closing"] for r in first.records()}
    for record in second.records():
        key = (record["location_code"], record["item_code"])
        assert record["opening"] == closing.get(key, 0)
    engine.dispose()


def test_stock_card_replays_the_running_balance(demo):
    ledger, transactions, _ = demo
    start = TODAY - dt.timedelta(days=100)  # the county's 年画 moved in the demo's first weeks
    report = read(
        ledger, lambda s: report_stock.stock_card(s, "510121", "NH2014", "2014-01", start, TODAY)
    )
    mine = [
        (tx, p)
        for tx in transactions
        for p in tx.postings
        if (p.location_code, p.item_code, p.batch_number) == ("510121", "NH2014", "2014-01")
    ]
    opening = sum(p.quantity for tx, p in mine if tx.occurred_on < start)
    rows = report.records()
    labels = {user.id: user.label for user in list_users(ledger.database)}
    assert rows[0]["memo"] == "期初结存" and rows[0]["balance"] == opening
    balance = opening
    assert len(rows) > 2  # the opening line and movements
    for record, (tx, p) in zip(
        rows[1:], [(tx, p) for tx, p in mine if tx.occurred_on >= start], strict=True
    ):
        balance += p.quantity
        assert record["number"] == tx.number and record["balance"] == balance
        assert record["maker"] == labels.get(tx.maker_id, "命令行")  # the maker, by label
        assert (record["received"] or 0) - (record["issued"] or 0) == p.quantity
    moved = [p.quantity for tx, p in mine if start <= tx.occurred_on <= TODAY]
    received, issued = sum(q for q in moved if q > 0), -sum(q for q in moved if q < 0)
    assert report.totals == ((None, "", "本期合计", "", received, issued, balance),)
    assert {record["maker"] for record in rows[1:]} >= {"金堂县仓库保管员"}


def test_stock_on_hand_as_of_a_day(demo):
    ledger, transactions, paths = demo
    day = TODAY - dt.timedelta(days=30)
    report = read(ledger, lambda s: report_stock.stock_on_hand(s, "510100", day))
    expected: dict = {}
    for tx, p in physical_postings(transactions, paths, "510100"):
        if tx.occurred_on <= day:
            key = (p.location_code, p.item_code, p.batch_number)
            expected[key] = expected.get(key, 0) + p.quantity
    got = {
        (r["location_code"], r["item_code"], r["batch_number"]): r["on_hand"]
        for r in report.records()
    }
    assert got == {key: value for key, value in expected.items() if value}


def test_in_transit_near_expiry_coverage_and_write_off_rate(demo):
    ledger, transactions, paths = demo
    confirmed = {tx.shipment_sequence for tx in transactions if tx.kind == "confirmation"}
    reversed_ = {tx.reverses_sequence for tx in transactions if tx.kind == "reversal"}
    expected_open = [
        tx.number
        for tx in transactions
        if tx.kind in ("issue", "transfer") and tx.sequence not in confirmed | reversed_
    ]
    transit = read(ledger, lambda s: report_stock.in_transit(s, "510100", TODAY))
    assert sorted({r["number"] for r in transit.records()}) == sorted(expected_open)
    ages = [r["days"] for r in transit.records()]
    assert ages == sorted(ages, reverse=True)  # oldest first

    expiring = read(ledger, lambda s: report_stock.near_expiry(s, "510100", 90, TODAY))
    held: dict = {}
    for tx in transactions:
        for p in tx.postings:
            if p.physical and p.batch_expires_on is not None:
                key = (p.location_code, p.batch_number)
                held[key] = (held.get(key, (0, None))[0] + p.quantity, p.batch_expires_on)
    soon = {
        key: (quantity, expires_on)
        for key, (quantity, expires_on) in held.items()
        if quantity and expires_on <= TODAY + dt.timedelta(days=90)
    }
    assert soon  # the demo holds an expired and a soon-expiring contraceptive batch
    got = {
        (r["location_code"], r["batch_number"]): (r["on_hand"], r["expires_on"])
        for r in expiring.records()
    }
    assert got == soon
    for record in expiring.records():
        assert record["days_left"] == (record["expires_on"] - TODAY).days
        assert record["status"] == ("已过期" if record["days_left"] < 0 else "近效期")

    coverage = read(ledger, lambda s: report_stock.coverage(s, "510121", "NH2014", START, TODAY))
    with ledger.database.read() as connection:
        villages = [
            row.code
            for row in reference_queries.locations(
                connection, paths["510121"], "village", limit=10_000
            )
        ]
    reached = {
        p.location_code
        for tx in transactions
        for p in tx.postings
        if p.location_code in villages
        and p.item_code == "NH2014"
        and p.quantity > 0
        and START <= tx.occurred_on <= TODAY
    }
    assert sorted(r["village_code"] for r in coverage.records()) == sorted(villages)
    assert {r["village_code"] for r in coverage.records() if r["reached"] == "是"} == reached

    rates = read(ledger, lambda s: reports.write_off_rate(s, "510100", START, TODAY))
    written = [r for r in rates.records() if r["written_off"]]
    assert written  # the demo writes off damaged 年画 and an expired contraceptive batch
    for record in rates.records():
        assert record["rate"] == pytest.approx(record["written_off"] / record["handled"])
        assert record["status"] == ("超标" if record["rate"] >= 0.005 else "正常")


def test_exports_carry_the_chinese_headers(demo):
    ledger, transactions, _ = demo
    report = read(ledger, lambda s: reports.period_summary(s, "510121", START, TODAY))
    book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))
    sheet = book.active
    assert sheet["A1"].value == "收发存汇总表"
    headers = [cell.value for cell in sheet[3]]
    assert headers[:2] == ["库点编码", "库点"] and "期末结存" in headers
    assert sheet.max_row == 3 + len(report.rows) + 2 * len(report.notes + report.signatures)
    text = render(report, "csv").decode("utf-8")
    assert text.startswith("\ufeff库点编码,库点,范围")
    page = render(report, "html").decode("utf-8")
    assert "<h1>收发存汇总表</h1>" in page and "<th>期末结存</th>" in page and "审核人：" in page
    voucher = read(ledger, lambda s: report_audit.voucher(s, transactions[0].number))
    # the city's print runs were received by the city warehouse's clerk
    assert voucher.title == "入库单" and voucher.signatures == (
        "制单人：市宣传中心仓库保管员",
        "审核人：",
        "签收人：",
    )
    assert "入库单" in render(voucher, "html").decode("utf-8")


def test_the_audit_sample_is_reproducible_and_stratified(demo):
    ledger, _, _ = demo
    first = read(ledger, lambda s: report_audit.audit_sample(s, "510100", 20, 7, TODAY))
    again = read(ledger, lambda s: report_audit.audit_sample(s, "510100", 20, 7, TODAY))
    other = read(ledger, lambda s: report_audit.audit_sample(s, "510100", 20, 8, TODAY))
    assert first.rows == again.rows and first.rows != other.rows
    assert len(first.rows) == 20 and len(set(first.rows)) == 20
    with ledger.database.read() as connection:
        accounts = balance_queries.balances(connection)
        levels = {
            row.code: row.level
            for row in reference_queries.locations(connection, include_virtual=True, limit=10_000)
        }
    share = {}
    for line in accounts:
        share[levels[line.location_code]] = share.get(levels[line.location_code], 0) + 1
    sampled = {}
    for record in first.records():
        sampled[record["level"]] = sampled.get(record["level"], 0) + 1
        assert record["counted"] is None  # a blank for the counter
    assert set(sampled) == set(share)  # every level that holds stock is in the sample
    for level, count in sampled.items():
        assert abs(count - 20 * share[level] / len(accounts)) <= 1.5


def test_places_cached_in_bulk_are_those_read_one_by_one(demo):
    ledger, _, paths = demo
    engine = ledger.database.engine
    codes = sorted(paths)
    with engine.connect() as connection:
        ids = dict(connection.exec_driver_sql("SELECT code, id FROM locations").all())
    one_by_one = Database(engine).lookup(
        lambda store: [store.location_by_id(ids[code]) for code in codes]
    )

    def in_bulk(store):
        store.cache_locations(ids=[ids[code] for code in codes[::2]], codes=codes[1::2])
        cached = dict(store.catalog.locations)
        return [cached[code] for code in codes], [store.location(code) for code in codes]

    cached, looked_up = Database(engine).lookup(in_bulk)
    assert cached == looked_up == one_by_one
    assert len(codes) > 20 and {entry.location.code for entry in cached} == set(codes)


def test_a_kind_without_a_column_stops_the_summary(demo, monkeypatch):
    """Every movement must land in a column: one that would not is refused, not dropped."""
    ledger, _, _ = demo
    columns = {direction: dict(kinds) for direction, kinds in reports._COLUMNS.items()}
    del columns[True]["receipt"]
    monkeypatch.setattr(reports, "_COLUMNS", columns)
    everything = (TODAY - dt.timedelta(days=365), TODAY)  # the demo's receipts included
    with pytest.raises(AssertionError, match="no column"):
        read(ledger, lambda s: reports.period_summary(s, "510100", *everything))
