"""docs/errors.md names every rejection code with the HTTP status the API gives it, and each
code is given somewhere (or documented as reserved) with the one meaning the table says."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

from api.errors import STATUS_BY_CODE
from ledger.rules import Code

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "docs" / "errors.md"
ROW = re.compile(r"^\| `([a-z_]+)` \| ([^|]+) \| (.+) \|$", re.M)
RESERVED = "保留"  # how the table marks a code kept for clients but not given today


def rows() -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for code, status, text in ROW.findall(TABLE.read_text(encoding="utf-8")):
        assert code not in found or code == "internal_error", f"{code} is listed twice"
        found.setdefault(code, (status.strip(), text.strip()))
    return found


def test_every_rejection_code_is_in_the_table_with_a_chinese_message():
    table = rows()
    missing = [code.value for code in Code if code.value not in table]
    assert missing == []
    for code in Code:
        assert re.search(r"[\u4e00-\u9fff]", table[code.value][1]), code


def test_the_table_gives_each_code_the_status_the_api_answers_with():
    table = rows()
    for code in Code:
        status = table[code.value][0]
        if status.startswith("—"):  # command line or start-up only
            continue
        assert int(status) == STATUS_BY_CODE.get(code, 422), (code, status)


def test_the_table_names_no_code_that_does_not_exist():
    api_only = {
        "invalid_request",
        "unauthenticated",
        "forbidden",
        "not_found",
        "method_not_allowed",
        "http_error",
        "internal_error",
    }
    assert set(rows()) - {code.value for code in Code} <= api_only


def _is_code(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Code"
    )


def _lists_codes(node: ast.AST) -> bool:
    """The enum itself, or the status table (codes named there are not given)."""
    if isinstance(node, ast.ClassDef):
        return node.name == "Code"
    if isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(isinstance(t, ast.Name) and t.id == "STATUS_BY_CODE" for t in targets)
    return False


@cache
def _sources() -> list[tuple[Path, ast.Module]]:
    return [
        (path, ast.parse(path.read_text(encoding="utf-8")))
        for folder in ("ledger", "api", "scripts")
        for path in sorted((ROOT / folder).rglob("*.py"))
    ]


def given_codes() -> dict[str, list[str]]:
    """Each code and the files that give it: `Code.x` used anywhere but in the enum itself, the
    status table and comparisons, or a code written out in a `problem(status, "x", …)`."""
    given: dict[str, list[str]] = {}

    def visit(node: ast.AST, path: Path) -> None:
        if _lists_codes(node) or isinstance(node, ast.Compare):
            return
        if _is_code(node):
            given.setdefault(node.attr, []).append(path.name)  # type: ignore[attr-defined]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "problem"
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
        ):
            given.setdefault(str(node.args[1].value), []).append(path.name)
        for child in ast.iter_child_nodes(node):
            visit(child, path)

    for path, tree in _sources():
        visit(tree, path)
    return given


def test_every_code_is_given_somewhere_or_documented_as_reserved():
    table, given = rows(), given_codes()
    reserved = {code for code, (_, text) in table.items() if text.startswith(RESERVED)}
    never_given = sorted(code.value for code in Code if code.value not in given)
    assert never_given == sorted(reserved & {code.value for code in Code})
    assert not reserved & set(given), "a code documented as reserved is given"


def test_invalid_field_always_names_the_field_it_is_about():
    """`invalid_field` means one thing — this field's value has the wrong form — so every
    refusal with it says which field."""
    unnamed = []
    for path, tree in _sources():
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and call.args):
                continue
            codes = [node.attr for node in ast.walk(call.args[0]) if _is_code(node)]  # type: ignore[attr-defined]
            if "invalid_field" not in codes:
                continue
            field = call.args[2] if len(call.args) > 2 else None
            field = field or next((k.value for k in call.keywords if k.arg == "field"), None)
            if field is None or (isinstance(field, ast.Constant) and field.value is None):
                unnamed.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert unnamed == []


def test_each_code_has_one_row_that_gives_it_one_meaning():
    text, table = TABLE.read_text(encoding="utf-8"), rows()
    for code in Code:
        rows_of_code = re.findall(rf"^\| `{code.value}` \|", text, re.M)
        assert len(rows_of_code) == 1 or code is Code.internal_error, code
        meaning = table[code.value][1]
        # A second meaning shows as "also used for …": a new meaning takes a new code instead.
        assert "也用此代码" not in meaning and "also used" not in meaning, code
