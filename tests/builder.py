"""Build a ledger from short readable text, in the manner of Beancount's test helpers.

location 510100 成都市 city
location 510121 金堂县 county 510100
item NH2014 年画 printed 张 捆=500
item BYT 避孕套 contraceptive 只 盒=3 expiry
receipt 510100 NH2014 2014-01 930000 on 2026-05-01
receipt 510100 BYT B1 300 expires 2027-01-01 on 2026-05-02
"""

from __future__ import annotations

import datetime as dt

from ledger import commands as c
from ledger.model import Item, ItemKind, Location, LocationLevel, Pack
from tests.bound import Ledger


def _options(words: list[str]) -> dict[str, str]:
    return {words[i]: words[i + 1] for i in range(0, len(words), 2)}


def ledger_from_text(ledger: Ledger, text: str) -> None:
    for raw in text.strip().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        verb, *words = line.split()
        if verb == "location":
            code, name, level, *parent = words
            ledger.add_location(
                Location(code, name, LocationLevel(level), parent[0] if parent else None)
            )
        elif verb == "item":
            code, name, kind, unit, *rest = words
            packs = tuple(Pack(w.split("=")[0], int(w.split("=")[1])) for w in rest if "=" in w)
            ledger.add_item(Item(code, name, ItemKind(kind), name, unit, packs, "expiry" in rest))
        elif verb == "receipt":
            location, item, batch, quantity, *rest = words
            options = _options(rest)
            expires = dt.date.fromisoformat(options["expires"]) if "expires" in options else None
            on = dt.date.fromisoformat(options["on"]) if "on" in options else None
            ledger.receive(
                c.Receive(
                    location, (c.ReceiptLine(item, batch, int(quantity), expires_on=expires),), on
                )
            )
        else:
            raise ValueError(f"unknown verb in ledger text: {verb!r}")


CITY_TEXT = """
location 510100 成都市 city
location 510121 金堂县 county 510100
location 510121-ZJ 赵家镇 township 510121
location 510121-ZJ-PS 平水村 village 510121-ZJ
location 510181 都江堰市 county 510100
item NH2014 年画 printed 张 捆=500
item GT2014 挂图 printed 张 套=4
item BYT 避孕套 contraceptive 只 盒=3 箱=720 expiry
"""
