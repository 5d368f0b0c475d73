"""The `ledger` command (an entry point, like `api/`: it calls the use cases in
`ledger.services`). `base` holds the top group and the entry point; each other module adds the
commands of one kind of work to it."""

from __future__ import annotations

from ledger.cli import (  # noqa: F401  (each registers its commands)
    audit,
    norms,
    office,
    print_plans,
    stock,
    tls,
    users,
)
from ledger.cli.base import main, run

__all__ = ["main", "run"]
