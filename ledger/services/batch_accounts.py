"""The accounts a group commit's batch of movement commands will take, read (on PostgreSQL
locked, in key order) in one query before the commands run: each command then finds its
accounts loaded instead of reading them one statement at a time. Only what a command names
itself: the named batches of issues, distributions and write-offs (a line without a batch picks
one from the stock, and locks it as it picks)."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from ledger import commands as c
from ledger.model import AccountKey, VirtualLocation
from ledger.rules import LedgerError
from ledger.services.ports import Store

# The command's source field, and where its stock goes.
SINKS: dict[type, tuple[str, VirtualLocation]] = {
    c.Issue: ("source_code", VirtualLocation.in_transit),
    c.Distribute: ("location_code", VirtualLocation.distributed),
    c.WriteOff: ("location_code", VirtualLocation.scrapped),
}


def accounts_of(store: Store, commands: list[Any]) -> list[AccountKey]:
    """The accounts these commands will move, as far as they name them (an unknown code: none;
    the command refuses it when it runs)."""
    keys: list[AccountKey] = []
    for command in commands:
        how = SINKS.get(type(command))
        if how is None:
            continue
        with suppress(LedgerError):
            source = store.location(getattr(command, how[0]))
            sink = store.location(how[1].value)
            for line in command.lines:
                if line.batch_number is None:
                    continue
                item = store.item(line.item_code)
                batch = store.find_batch(item, line.batch_number)
                if batch is not None:
                    keys.append(AccountKey(source.id, item.id, batch.id))
                    keys.append(AccountKey(sink.id, item.id, batch.id))
    return keys
