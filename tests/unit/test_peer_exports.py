"""The exports for hledger, ledger-cli and Beancount: their formatting, and reading the peers'
balance output back. (The peers themselves run only in bench/peers/compare.py.)"""

from __future__ import annotations

import datetime as dt

from bench.peers import export
from ledger.verify import StoredPosting, StoredTransaction


def transaction(number: str, memo: str, postings) -> StoredTransaction:
    return StoredTransaction(
        1,
        number,
        "issue",
        dt.date(2025, 3, 1),
        "510100",
        "510121",
        None,
        None,
        None,
        memo,
        "0" * 64,
        "1" * 64,
        tuple(
            StoredPosting(code, True, item, batch, None, qty, 0)
            for code, item, batch, qty in postings
        ),
    )


ISSUE = transaction(
    "CK-2025-000007",
    '下发 "金堂县"\n第二行',
    [("510100", "NH2014", "2025-01", -500), ("in-transit", "NH2014", "2025-01", 500)],
)


def test_journal_for_hledger_and_ledger_cli():
    names: dict = {}
    text = "".join(export.journal([ISSUE], names))
    assert text == (
        "2025-03-01 CK-2025-000007 下发 '金堂县' 第二行\n"
        '    Assets:Stock:L510100  -500 "NH2014.2025-01"\n'
        '    Assets:Stock:LIN-TRANSIT  500 "NH2014.2025-01"\n\n'
    )


def test_beancount_opens_every_account_and_quotes_the_narration():
    names: dict = {}
    text = "".join(export.beancount([ISSUE], ["510100", "in-transit"], names))
    assert text.startswith(
        "1970-01-01 open Assets:Stock:L510100\n1970-01-01 open Assets:Stock:LIN-TRANSIT\n\n"
    )
    assert '2025-03-01 * "CK-2025-000007" "下发 \'金堂县\' 第二行"\n' in text
    assert "  Assets:Stock:L510100  -500 NH2014.2025-01\n" in text


def test_commodity_names_are_valid_everywhere_and_stable():
    names: dict = {}
    assert export.commodity_name("BYT", "BY-25030", names) == "BYT.BY-25030"
    assert export.commodity_name("byt", "b 1", names) == "BYT.B-1"
    long = export.commodity_name("NH2014", "A-VERY-LONG-BATCH-NUMBER-2025", names)
    assert export.BEANCOUNT_COMMODITY.fullmatch(long) and long != "NH2014.A-VERY-LONG-BATCH"
    assert export.commodity_name("NH2014", "A-VERY-LONG-BATCH-NUMBER-2025", names) == long
    assert len(set(names.values())) == len(names)


def test_reading_the_peers_balances():
    hledger = (
        '"account","commodity","balance"\n'
        '"Assets:Stock:L510100","BYT.BY-25030","-5"\n'
        '"Assets:Stock:L510100","NH2014.2025-01","929,900"\n'
        '"Assets:Stock:LX","NH2014.2025-01","0"\n'
    )
    expected = {
        ("Assets:Stock:L510100", "BYT.BY-25030"): -5,
        ("Assets:Stock:L510100", "NH2014.2025-01"): 929_900,
    }
    assert export.parse_hledger_csv(hledger) == expected
    ledger = 'Assets:Stock:L510100\t-5 "BYT.BY-25030"\n929900 "NH2014.2025-01"\n'
    assert export.parse_ledger_balance(ledger) == expected
