"""The app's password hashes cost what RFC 9106 recommends, whatever the tests use.

tests/conftest.py swaps the app's hasher for argon2id at its smallest cost while the tests run
(hundreds of sign-ins); this holds the hasher the app itself made to its parameters."""

from __future__ import annotations

from argon2 import Type
from argon2.low_level import verify_secret

from tests.conftest import APP_HASHER


def test_the_app_hashes_passwords_with_argon2id_at_rfc_9106s_second_recommended_cost():
    assert (APP_HASHER.type, APP_HASHER.time_cost, APP_HASHER.memory_cost) == (Type.ID, 3, 65536)
    assert (APP_HASHER.parallelism, APP_HASHER.hash_len, APP_HASHER.salt_len) == (4, 32, 16)
    hashed = APP_HASHER.hash("demo-password")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_secret(hashed.encode(), b"demo-password", Type.ID)
