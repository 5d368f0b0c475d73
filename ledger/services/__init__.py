"""Use cases: what the HTTP API, the command line, the scripts and the bulk loader ask the ledger
to do. One shape for all of them:

    verb(database, command_or_arguments, actor=None, today=None) -> result

- `database` (`ledger.db.unit_of_work.Database`) is where the unit of work comes from: the use
  case runs its steps in `database.write` (one database transaction, committed once, retried
  on write conflicts; inside another use case's write it joins that one) or, to read,
  `database.lookup` / `database.read`. The caller never assembles the write itself.
- `actor`: the user the vouchers and log entries name (None: the command line).
- `today`: the day the caller's clock gives (the API passes `services.clock()`, the tests their
  fixed day); None: the office's today (`ledger.settings.office_today`). Use cases that write
  take it, and reads whose answer depends on the day.
- the result is a value (a msgspec Struct, a `Transaction`), never a row or a store.

Inside the unit of work a use case is made of steps `step(store, …, actor, today)` over the
unit of work's store (`ledger.db.store.LedgerStore`); steps call steps, never another use case,
so several steps commit together. Rules come from the pure core (`ledger.*`: FEFO picking, the
request state machine, the pack policy, closed periods); SQL lives only in `ledger.db`.

The movement steps are written against a port, not against `LedgerStore`: `ports.Store` (the
repositories they use: reference data, accounts, journal, reservations, idempotency keys, the
operations log) and `ports.Database` (`write`, `lookup`), typing Protocols that the real ones
satisfy. tests/unit/fake_store.py implements them with dictionaries (posting, FEFO, closed
periods and the chain still the core's), so the movement use cases are unit-tested without a
database; a contract test runs the same commands on the fake and on both engines.

Examples: `ledger.execute(database, c.Issue(…), actor, today)` (every movement kind, dispatched
by the command's type: `ledger.services.ledger`), `requests.approve(database, number,
Approve(…), actor, today)`, `scanning.post(database, document_id, actor, …)`,
`stocktakes.close(database, number, actor, today)`, `audit.close_books(database, period_end,
actor, today, root_code)`, `users.add_user(database, label, role, location_code, actor=…)`,
`audit.verify_ledger(database, …)`.

There is no other shape: the API, the command line, the scripts and the demo loader call these
functions themselves (the API's `Services` only holds the database, the clock and the label
keys). The tests' `tests/bound.py` binds a database and a clock for brevity, nothing more.

Reports are views, not use cases: `report(store, …)` read inside the caller's
`database.lookup`, so a report and what is read beside it see one state (`reports`,
`report_stock`, `report_audit`).

Each name has one home: a command or result type is imported from its area's `*_models`, a
step from its own module, a read query from its module in `ledger.db` (`balance_queries`,
`journal_queries`, `reference_queries` …); no module passes on another's names. The entry
points reach storage only through this package: the database they open and its schema and size
are `database`'s questions.

Modules by area (the use cases first, then the steps they run):
- movements: `ledger` (dispatch, idempotency); `movements`, `confirmations` (shortages),
  `reversals`, `reservations`, `additions`; shared `checks`, `movement_lines`; the port
  `ports`;
- requests: `requests`; `request_transitions`, `request_shipments`, `request_records`,
  `request_models`;
- scanning: `scanning`; `scan_packs`, `scan_documents`, `scans`, `scan_posting`, `scan_models`;
- stocktakes: `stocktakes`; `stocktake_counts`, `stocktake_approval`, `stocktake_scope`,
  `stocktake_models`;
- reference data corrections: `reference`; `reference_corrections`, `reference_versions`,
  `reference_models`;
- reports: `reports` (the period summary, 报损率); `report_stock`, `report_audit`, `report_common`,
  `report_formats`;
- users, audit and period closes, imports, allocation plans, backup, setup, the demo;
- the database an entry point opens (`database`), bulk loading for big ledgers (`bulk`).
How a use case runs its unit of work: `work`.
"""
