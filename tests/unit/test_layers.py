"""The layers of DESIGN.md, checked on the import statements (wherever they are in a file):
the pure core (`ledger/*.py`) imports no storage, web framework or other layer of the project;
SQL lives only in `ledger.db`, which knows nothing of the use cases or the entry points; the
entry points (`api`, `ledger.cli`, `scripts`) reach storage only through the use cases."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.unit.test_import_cycles import ROOT, import_graph, module_files

# What the pure core may not import, at any depth of the name.
NOT_IN_CORE = ("sqlalchemy", "litestar", "psycopg", "alembic", "sqlite3", "click", "api")


def imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def core_modules() -> dict[str, Path]:
    return {
        name: path
        for name, path in module_files().items()
        if name.startswith("ledger.") and name.count(".") == 1 and path.parent.name == "ledger"
    }


def test_the_core_is_found():
    assert {"ledger.posting", "ledger.picking", "ledger.requests"} <= set(core_modules())


@pytest.mark.parametrize("module", sorted(core_modules()))
def test_the_pure_core_imports_no_storage_web_or_other_layer(module):
    names = imported_names(core_modules()[module])
    wrong = sorted(
        name
        for name in names
        if name.split(".")[0] in NOT_IN_CORE
        or name.startswith(("ledger.db", "ledger.services", "ledger.cli"))
    )
    assert wrong == []


def _importers_of(prefix: str, among: str) -> list[str]:
    graph = import_graph()
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module == among or module.startswith(among + ".")
        for target in targets
        if target == prefix or target.startswith(prefix + ".")
    )


@pytest.mark.parametrize("entry_point", ["api", "ledger.cli", "scripts"])
def test_entry_points_reach_storage_only_through_the_use_cases(entry_point):
    assert _importers_of("ledger.db", entry_point) == []


def test_storage_knows_nothing_of_use_cases_or_entry_points():
    for layer in ("ledger.services", "ledger.cli", "api", "scripts"):
        assert _importers_of(layer, "ledger.db") == []


# Outside storage, SQLAlchemy may name a connection (a type), parse a database URL or catch its
# errors; anything that builds a statement or a table belongs in ledger.db.
NOT_SQL = {"Connection", "URL", "make_url", "ArgumentError", "DBAPIError", "OperationalError"}


def sqlalchemy_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.split(".")[0] == "sqlalchemy")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            names.update(alias.name for alias in node.names)
    return names


def test_sql_is_written_only_in_storage():
    outside = {
        name: sorted(found - NOT_SQL)
        for name, path in module_files().items()
        if not name.startswith("ledger.db") and (found := sqlalchemy_names(path)) - NOT_SQL
    }
    assert outside == {}
    assert "select" in sqlalchemy_names(module_files()["ledger.db.journal"])


def test_the_checks_see_an_import_of_storage():
    """The checks above would pass on an empty graph: this one shows they read real imports."""
    assert _importers_of("ledger.db", "ledger.services")
    assert (ROOT / "ledger" / "db" / "store.py").exists()
