"""Numbers read from web forms: a character Python calls a digit but int() cannot read ('²')
is not a number (it raised ValueError, a 500), while any decimal digit still reads."""

from __future__ import annotations

from api.web.confirm_parts import ConfirmLine, received_base
from api.web.movement_forms import row_count


def test_a_received_quantity_typed_as_a_superscript_is_unreadable():
    assert received_base(ConfirmLine("BYT", "B1", 30, "3²")) is None
    assert received_base(ConfirmLine("BYT", "B1", 30, "30")) == 30
    assert received_base(ConfirmLine("BYT", "B1", 30, "３０")) == 30  # full-width digits read


def test_a_row_count_typed_as_a_superscript_is_one_row():
    assert row_count({"rows": "²"}) == 1
    assert row_count({"rows": "3"}) == 3
