"""The demo built from the seed documents loads, verifies clean and carries the seeds' figures."""

from __future__ import annotations

from ledger.db import balance_queries
from ledger.services.audit import verify_ledger
from ledger.services.demo import COUNTIES, PRINT_RUNS, load_demo
from tests.conftest import TODAY


def test_the_demo_loads_and_verifies_clean(ledger):
    summary = load_demo(ledger.database, ledger.clock())
    assert summary.end == TODAY and summary.transactions > 150
    report = verify_ledger(ledger.database)
    assert report.ok, report.findings[:5]
    assert report.transactions_checked == summary.transactions
    with ledger.database.read() as connection:
        everything = balance_queries.balances(connection, include_virtual=True)
        physical = balance_queries.balances(connection)
    # Every print run's quantity from seed 000 is accounted for across all locations.
    for item, batch, quantity in PRINT_RUNS:
        supplier = sum(
            line.on_hand
            for line in everything
            if line.location_code == "supplier"
            and (line.item_code, line.batch_number) == (item, batch)
        )
        assert supplier == -quantity
        total = sum(
            line.on_hand
            for line in everything
            if (line.item_code, line.batch_number) == (item, batch)
        )
        assert total == 0
    # All 20 区(市)县 hold stock; 平水村 of 赵家镇 received and handed out 年画.
    holders = {line.location_code for line in physical}
    assert {code for code, _, _ in COUNTIES} <= holders | {"510185"}
    pingshui = [
        line for line in physical if line.location_name == "平水村" and line.item_code == "NH2014"
    ]
    assert [line.on_hand for line in pingshui] == [300]
    # 简阳市's shipments are still in transit; a reservation holds stock at 金堂县.
    in_transit = [line for line in everything if line.location_code == "in-transit"]
    assert sum(line.on_hand for line in in_transit) > 0
    assert sum(line.reserved for line in physical if line.location_code == "510121") == 60


def test_the_demos_vouchers_are_made_by_the_users_of_their_places(ledger):
    load_demo(ledger.database, ledger.clock())
    with ledger.database.read() as connection:
        rows = connection.exec_driver_sql(
            "SELECT l.code, u.label FROM transactions t JOIN locations l ON l.id = t.location_id "
            "LEFT OUTER JOIN users u ON u.id = t.maker_id"
        ).all()
    makers: dict[str, set] = {}
    for code, label in rows:
        makers.setdefault(code, set()).add(label)
    assert makers["510100"] == {"市宣传中心仓库保管员"}
    assert makers["510121"] == {"金堂县仓库保管员"}
    assert makers["510121-ZJ"] == {"赵家镇计生办"}
    assert makers["510181"] == {None}  # no demo user there: made from the command line
