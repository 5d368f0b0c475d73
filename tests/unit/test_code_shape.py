"""Sizes a reader can hold in mind (issue: no source file over ~500 lines, no function over ~80):
checked on every module of the project, so a file or function that grows past them is split
when it does, not in a later clean-up."""

from __future__ import annotations

import ast

from tests.unit.test_import_cycles import module_files

FILE_LINES_MAX = 500
FUNCTION_LINES_MAX = 80


def test_no_source_file_is_longer_than_the_limit():
    files = module_files()
    assert len(files) > 100  # the whole project was found
    long = {
        name: count
        for name, path in files.items()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > FILE_LINES_MAX
    }
    assert long == {}


def test_no_function_is_longer_than_the_limit():
    long = {}
    for name, path in module_files().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno is not None
                length = node.end_lineno - node.lineno + 1
                if length > FUNCTION_LINES_MAX:
                    long[f"{name}.{node.name}"] = length
    assert long == {}
