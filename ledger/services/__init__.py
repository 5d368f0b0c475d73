"""Use cases: what the HTTP API, the command line, the scripts and the bulk loader ask the ledger
to do. One shape for all of them:

    verb(database, command_or_arguments, actor=None, today=None) -> result

- `database` (`ledger.db.unit_of_work.Database`) is where the unit of work comes from: the use
  case runs its steps in `database.write` (one database transaction, committed once, retried
  on write conflicts; inside another use case's write it joins that one) or, to read,
  `database.lookup` / `database.read`. The caller never assembles the write itself.
- `actor`: the user the vouchers and log entries name (None: the command line).
- `today`: the day the caller's clock gives (the API's and the tests' `Ledger.clock`); None: the
  office's today (`ledger.settings.office_today`). Only use cases whose outcome depends on the
  day take it.
- the result is a value (a msgspec Struct, a `Transaction`), never a row or a store.

Inside the unit of work a use case is made of steps `step(store, …, actor, today)` over the
unit of work's store (`ledger.db.store.LedgerStore`); steps call steps, never another use case,
so several steps commit together. Rules come from the pure core (`ledger.*`: FEFO picking, the
request state machine, the pack policy, closed periods); SQL lives only in `ledger.db`.

Examples: `ledger.execute(database, c.Issue(…), actor, today)` (every movement kind, dispatched
by the command's type), `requests.approve(database, number, Approve(…), actor, today)`,
`users.add_user(database, label, role, location_code, actor=…)`,
`audit.verify_ledger(database, …)`.

`Ledger`, `Requests`, `Scanning` and `Stocktakes` are adapters that bind a database and a clock
for callers that hold one (the API's `Services`, the tests); each method calls the use case of
the same name and nothing else.

Modules by area: movements (`movements`, `confirmations`, `reversals`, `reservations`,
`additions`, dispatched by `ledger`), requests (`requests`: the use cases; `request_transitions`,
`request_shipments`, `request_records`: the steps), scanning, stocktakes, reference data
corrections (`reference`), users, audit and period closes, imports, reports, backup, setup, demo.
Shared checks: `checks`, `movement_lines`; how a use case runs: `work`.
"""
