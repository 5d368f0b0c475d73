"""What the movement pages' tests share: opening a form for its CSRF token and once key,
posting it as a browser does, reading an error beside an input, and the ledger's own figures
(balances, vouchers) to check a page against."""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import unquote

from ledger import commands as c
from ledger.model import TransactionKind
from ledger.services import lookups
from ledger.services.balances import BalanceQuery, balances
from ledger.services.ledger import execute
from tests.conftest import TODAY
from tests.web.conftest import csrf_of

ONCE = re.compile(r'name="once" value="([^"]+)"')


def open_form(client, path: str) -> dict[str, str]:
    """The hidden fields of the form at `path` (its CSRF token and once key)."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = ONCE.search(page.text)
    assert found, "the form carries no once key"
    return {"_csrf": csrf_of(page.text), "once": found.group(1)}


def post_form(client, path: str, fields: dict[str, str], opened: dict | None = None):
    """Post the form at `path` with `fields` (its hidden fields from a fresh GET unless
    `opened` is given), not following the redirect."""
    data = {**(opened or open_form(client, path)), "action": "post", **fields}
    return client.post(path, data=data, follow_redirects=False)


def posted_number(answer) -> str:
    """The voucher number a successful post redirects to (the voucher page, or the movement
    pages' own confirmation)."""
    assert answer.status_code == 303, answer.text[:2000]
    where = answer.headers["location"]
    assert where.startswith(("/vouchers/", "/movements/done/")), where
    return unquote(where.rsplit("/", 1)[-1])


def error_beside(page: str, name: str) -> str:
    """The error shown beside the input `name` ('' if none)."""
    found = re.search(
        rf'<span class="error-text" id="e-{re.escape(name)}"[^>]*>([^<]*)</span>', page
    )
    return html.unescape(found.group(1)) if found else ""


def value_of(page: str, name: str) -> str:
    """The value an <input name=…> of the page holds."""
    found = re.search(
        rf'<input id="f-{re.escape(name)}" name="{re.escape(name)}"[^>]*value="([^"]*)"', page
    )
    return html.unescape(found.group(1)) if found else ""


def on_hand(database, location: str, item: str, batch: str) -> int:
    rows = balances(
        database, BalanceQuery(location_code=location, item_code=item, batch_number=batch)
    )
    return sum(row.on_hand for row in rows)


def voucher(database, number: str):
    return lookups.transaction(database, number)


def count_kind(database, kind: str) -> int:
    wanted = lookups.TransactionFilter(kind=TransactionKind(kind))
    total = 0
    while len(found := lookups.transactions(database, wanted, 200, total)) == 200:
        total += 200
    return total + len(found)


def receive(database, location: str, item: str, batch: str, quantity: int, **options):
    """A receipt straight through the use case (for setting a test up)."""
    on = options.pop("on", None)
    line = c.ReceiptLine(item, batch, quantity, **options)
    return execute(database, c.Receive(location, (line,), on), None, TODAY)


def stock_batches_for_fefo(database) -> None:
    """Two more batches of 避孕套 at 金堂县 besides the demo's BYT-2503 (expires 2028-05-30): one
    expired on 2026-03-31 and one expiring 2027-01-31."""
    receive(
        database,
        "510121",
        "BYT",
        "BYT-OLD",
        30,
        expires_on=dt.date(2026, 3, 31),
        on=dt.date(2026, 1, 10),
    )
    receive(database, "510121", "BYT", "BYT-2601", 60, expires_on=dt.date(2027, 1, 31))
