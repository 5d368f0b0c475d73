"""A shared virtual place (在途, 已发放 …) holds every city's movements: its stock card is
read by a global admin only, over the API and on the 报表 page alike."""

from __future__ import annotations

from tests.api.conftest import headers

V1 = "/api/v1"


def test_a_shared_virtual_places_stock_card_is_for_global_admins_only(shared_client):
    """在途 is shared by every city: its card would list other cities' shipments."""
    client, _ = shared_client
    query = "location=in-transit&item=NH2014&batch=2014-01&date_from=2026-01-01&date_to=2026-06-30"
    for who in ("admin", "auditor-root", "clerk-city"):
        refused = client.get(f"{V1}/reports/stock-card?{query}", headers=headers(who))
        assert refused.status_code == 403, (who, refused.text)
        assert "共用的虚拟库点" in refused.json()["detail"]
    own = client.get(
        f"{V1}/reports/stock-card?{query.replace('in-transit', '510100')}",
        headers=headers("clerk-city"),
    )
    assert own.status_code == 200
