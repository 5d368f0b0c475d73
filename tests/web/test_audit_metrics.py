"""全账核验 in the 工作台 sets the verification metrics as the API's does: a tampered ledger's
findings are counted by invariant and code, and the latest verification's count is theirs."""

from __future__ import annotations

from collections import Counter

from prometheus_client import REGISTRY
from sqlalchemy import text

from ledger.db.guards import drop_guards
from ledger.services.audit import verify_ledger
from tests.web.conftest import sign_in

CITY = "510100"


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_verification_in_the_workspace_counts_a_tampered_ledgers_findings(web, web_database):
    with web_database.engine.begin() as connection:
        drop_guards(connection)
        connection.execute(
            text(
                "UPDATE postings SET quantity = quantity + 5 WHERE id = (SELECT max(id) FROM postings)"
            )
        )
    expected = verify_ledger(web_database, root_code=CITY)
    kinds = Counter((str(finding.invariant), finding.code) for finding in expected.findings)
    assert "hash_mismatch" in {code for _, code in kinds}
    before = {
        kind: value("ledger_verification_findings_total", invariant=kind[0], code=kind[1])
        for kind in kinds
    }
    runs = value("ledger_verifications_total", result="findings")
    assert sign_in(web, "auditor@510100").status_code == 303
    page = web.get("/audit/verification")
    assert page.status_code == 200 and "核验发现" in page.text
    assert value("ledger_verifications_total", result="findings") == runs + 1
    assert value("ledger_verification_last_findings") == len(expected.findings)
    for (invariant, code), count in kinds.items():
        found = value("ledger_verification_findings_total", invariant=invariant, code=code)
        assert found == before[(invariant, code)] + count
