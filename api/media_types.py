"""Operations that answer in more than one media type, as the OpenAPI document says them.

Litestar declares one media type per handler. A handler with a `format` parameter names one of
these classes as its `operation_class` (Litestar's documented hook for customising a handler's
OpenAPI operation, see "Customizing Operation class" in its OpenAPI docs); the class adds the
other media types to the 200 answer when the operation is built.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import OpenAPIMediaType, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType

TEXT = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
BINARY = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _ok_content(operation: Operation) -> dict | None:
    ok = (operation.responses or {}).get("200")
    return getattr(ok, "content", None)


@dataclass
class ExportOperation(Operation):
    """A report: JSON (the report's schema), CSV, XLSX or HTML (`format`)."""

    def __post_init__(self) -> None:
        content = _ok_content(self)
        if content is None:
            return
        report = content.get("application/json") or next(iter(content.values()))
        content.clear()
        content.update(
            {"application/json": report, "text/csv": TEXT, XLSX: BINARY, "text/html": TEXT}
        )


@dataclass
class LabelOperation(Operation):
    """A label: PNG (the handler's own media type) or SVG (`format=svg`)."""

    def __post_init__(self) -> None:
        content = _ok_content(self)
        if content is not None:
            content["image/svg+xml"] = TEXT
