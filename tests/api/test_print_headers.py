"""The API's print forms are HTML pages: they run no script, load nothing from elsewhere and
cannot be framed by another site (a Content-Security-Policy of their own); JSON answers carry
none."""

from __future__ import annotations

from tests.api.conftest import headers

V1 = "/api/v1"


def test_a_print_form_forbids_scripts_framing_and_other_origins(shared_client, numbers):
    client, _ = shared_client
    number = numbers.distribution["in"]
    printed = client.get(f"{V1}/transactions/{number}/voucher", headers=headers("clerk"))
    assert printed.status_code == 200 and printed.headers["content-type"].startswith("text/html")
    policy = printed.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src" not in policy  # none: default-src 'none' forbids every script
    assert printed.headers["x-content-type-options"] == "nosniff"
    answer = client.get(f"{V1}/transactions/{number}", headers=headers("clerk"))
    assert answer.status_code == 200 and "content-security-policy" not in answer.headers
