"""The fake unit of work offers every member of the port, called the same way (mypy checks the
real `LedgerStore` and `Database` against the port wherever they are passed to a use case; the
contract test checks that the fake answers as they do)."""

from __future__ import annotations

import inspect

import pytest

from ledger.services import ports
from tests.unit.fake_store import FakeDatabase, FakeStore


def members(protocol: type) -> dict[str, object]:
    found: dict[str, object] = {}
    for cls in reversed(protocol.__mro__):
        if cls.__module__ == ports.__name__:
            found.update({k: v for k, v in vars(cls).items() if not k.startswith("_")})
    return found


@pytest.mark.parametrize(
    ("protocol", "fake"), [(ports.Store, FakeStore), (ports.Database, FakeDatabase)]
)
def test_the_fake_has_every_member_of_the_port_with_its_parameters(protocol, fake):
    for name, member in members(protocol).items():
        assert hasattr(fake, name), name
        if inspect.isfunction(member):
            wanted = list(inspect.signature(member).parameters)
            assert list(inspect.signature(getattr(fake, name)).parameters) == wanted, name
