"""The ledger as an hledger journal, a ledger-cli journal and a Beancount file.

Each location becomes an account `Assets:Stock:L<CODE>` and each (item, batch) a commodity
`<ITEM>.<BATCH>` (upper case), quantities in base units. A transaction keeps its date, its
voucher number and its memo. The three formats differ in small ways: hledger and ledger-cli
quote commodity symbols that contain digits or punctuation; Beancount needs `open` directives
for its accounts, a flag and quoted narration, and commodity names of at most 24 characters
(longer ones become `B<batch id>`-style names through `commodity_name`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ledger.verify import StoredTransaction

BEANCOUNT_COMMODITY = re.compile(r"[A-Z][A-Z0-9'._-]{0,22}[A-Z0-9]")
ACCOUNT_COMPONENT = re.compile(r"[^A-Z0-9-]")


def account_name(location_code: str) -> str:
    return "Assets:Stock:L" + ACCOUNT_COMPONENT.sub("-", location_code.upper())


def commodity_name(item_code: str, batch_number: str, names: dict[tuple[str, str], str]) -> str:
    """A commodity symbol every peer accepts, the same for the same (item, batch)."""
    key = (item_code, batch_number)
    name = names.get(key)
    if name is None:
        readable = re.sub(r"[^A-Z0-9._-]", "-", f"{item_code}.{batch_number}".upper())
        name = readable if BEANCOUNT_COMMODITY.fullmatch(readable) else f"B{len(names) + 1}X"
        names[key] = name
    return name


def _text(value: str) -> str:
    return value.replace('"', "'").replace("\n", " ").strip()


def journal(transactions: Iterable[StoredTransaction], names: dict) -> Iterator[str]:
    """hledger and ledger-cli: the same plain-text journal serves both."""
    for tx in transactions:
        lines = [f"{tx.occurred_on.isoformat()} {tx.number} {_text(tx.memo) or tx.kind}"]
        for p in tx.postings:
            commodity = commodity_name(p.item_code, p.batch_number, names)
            lines.append(f'    {account_name(p.location_code)}  {p.quantity} "{commodity}"')
        yield "\n".join(lines) + "\n\n"


def beancount(
    transactions: Iterable[StoredTransaction], location_codes: Iterable[str], names: dict
) -> Iterator[str]:
    for code in sorted(location_codes):
        yield f"1970-01-01 open {account_name(code)}\n"
    yield "\n"
    for tx in transactions:
        narration = _text(tx.memo) or tx.kind
        lines = [f'{tx.occurred_on.isoformat()} * "{tx.number}" "{narration}"']
        for p in tx.postings:
            commodity = commodity_name(p.item_code, p.batch_number, names)
            lines.append(f"  {account_name(p.location_code)}  {p.quantity} {commodity}")
        yield "\n".join(lines) + "\n\n"


def parse_hledger_csv(text: str) -> dict[tuple[str, str], int]:
    """`hledger bal --flat --no-total -O csv --layout=bare` → {(account, commodity): quantity}."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text)))
    return {
        (account, commodity): int(balance.replace(",", ""))
        for account, commodity, balance in rows[1:]
        if balance.replace(",", "") not in ("", "0")
    }


def parse_ledger_balance(text: str) -> dict[tuple[str, str], int]:
    """`ledger bal --flat --no-total --balance-format '%(account)\\t%(display_total)\\n'`: an
    account line, then one line per further commodity of the same account."""
    found: dict[tuple[str, str], int] = {}
    account = None
    for line in text.splitlines():
        if not line.strip():
            continue
        if "\t" in line:
            account, amount = line.split("\t", 1)
        else:
            amount = line
        quantity, _, commodity = amount.strip().partition(" ")
        value = int(quantity.replace(",", ""))
        if value:
            found[(account, commodity.strip('"'))] = value
    return found
