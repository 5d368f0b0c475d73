"""Labels and scanning over HTTP: every scan rule, the label endpoints, and the sheet."""

from __future__ import annotations

import cv2
import numpy as np
import pypdfium2

from ledger import labels
from tests.api.conftest import headers

V1 = "/api/v1"
FORGED_KEYS = labels.LabelKeys("T1", {"T1": b"not-the-office-key-0123456789"})


def post(client, path, body, who="clerk-city"):
    return client.post(f"{V1}{path}", json=body, headers=headers(who))


def packs_at(client, location, item="NH2014", batch="2014-01", who="admin"):
    response = client.get(
        f"{V1}/batches/{item}/{batch}/packs",
        params={"location": location, "limit": 200},
        headers=headers(who),
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


def on_hand(client, location, item, batch):
    response = client.get(
        f"{V1}/balances", params={"location": location, "item": item}, headers=headers("admin")
    )
    rows = [row for row in response.json()["items"] if row["batch_number"] == batch]
    return rows[0]["on_hand"] if rows else 0


def open_issue(client, destination="510121"):
    response = post(
        client,
        "/scan-documents",
        {"purpose": "issue", "location_code": "510100", "destination_code": destination},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def scan(client, document, payload, reason=None, who="clerk-city"):
    body = {"document": document, "payload": payload}
    if reason:
        body["override_reason"] = reason
    return post(client, "/scans", body, who)


def receive_soon_expiring(client) -> str:
    """A 箱 of BYT expiring before the city's B-LATE; its label."""
    body = {
        "location_code": "510100",
        "lines": [
            {
                "item_code": "BYT",
                "batch_number": "B-SOON",
                "quantity": 720,
                "expires_on": "2026-08-31",
            }
        ],
    }
    assert post(client, "/transactions/receipts", body).status_code == 201
    return packs_at(client, "510100", "BYT", "B-SOON")[0]["payload"]


def test_each_scan_rule(client):
    receive_soon_expiring(client)
    city_packs = packs_at(client, "510100")
    document = open_issue(client)
    first, second = city_packs[0]["payload"], city_packs[1]["payload"]
    scanned = scan(client, document, first)
    assert scanned.status_code == 200 and scanned.json()["status"] == "scanned"
    again = scan(client, document, first)
    assert again.status_code == 200 and again.json()["status"] == "already_scanned"
    assert again.json()["document"]["packs"] == 1
    # a pack that is at 金堂县, not here
    elsewhere = scan(client, document, packs_at(client, "510121")[0]["payload"])
    assert elsewhere.status_code == 409 and elsewhere.json()["code"] == "pack_not_here"
    # forged, garbled, truncated
    forged = labels.encode(labels.PackLabel("NH2014", "2014-01", 3, 500), FORGED_KEYS)
    for payload in (forged, first[:-1] + ("A" if first[-1] != "A" else "B"), first[:20], "你好"):
        refused = scan(client, document, payload)
        assert refused.status_code == 422 and refused.json()["code"] == "label_invalid", payload
    # FEFO: B-LATE while B-EARLY is on the shelf needs a reason
    late = packs_at(client, "510100", "BYT", "B-LATE")[0]["payload"]
    needs_reason = scan(client, document, late)
    assert needs_reason.status_code == 422
    assert needs_reason.json()["code"] == "fefo_override_reason_required"
    assert scan(client, document, late, "近效期批次已预留").json()["status"] == "scanned"
    assert scan(client, document, second).status_code == 200
    undone = post(client, f"/scan-documents/{document}/undo", {})
    assert undone.status_code == 200 and undone.json()["packs"] == 2
    listed = client.get(
        f"{V1}/scan-documents", params={"status": "open"}, headers=headers("clerk-city")
    ).json()["items"]
    (mine,) = [d for d in listed if d["id"] == document]
    assert (mine["packs"], mine["lines"]) == (2, [])  # totals in lists; scans on the document
    assert len(undone.json()["lines"]) == 2
    before = on_hand(client, "510100", "NH2014", "2014-01")
    posted = post(client, f"/scan-documents/{document}/post", {})
    assert posted.status_code == 200, posted.text
    body = posted.json()
    assert body["status"] == "posted" and body["transaction_number"].startswith("CK-")
    assert on_hand(client, "510100", "NH2014", "2014-01") == before - 500
    assert scan(client, document, second).json()["code"] == "scan_document_state"


def test_an_expired_batch_is_refused_on_issue(client, api_database):
    import datetime as dt

    from litestar.testing import TestClient

    from api.app import create_app

    payload = receive_soon_expiring(client)
    later = create_app(api_database, clock=lambda: dt.date(2026, 10, 1))
    with TestClient(app=later) as late_client:
        document = open_issue(late_client)
        expired = scan(late_client, document, payload)
    assert expired.status_code == 422 and expired.json()["code"] == "batch_expired"


def test_confirming_an_arrival_by_scan(client, numbers):
    document = post(
        client,
        "/scan-documents",
        {
            "purpose": "confirm",
            "location_code": "510121-ZJ",
            "shipment_number": numbers.packed_shipment["in"],
        },
        "requester",
    )
    assert document.status_code == 201, document.text
    identifier = document.json()["id"]
    travelling = packs_at(client, "in-transit")
    mine = [p for p in travelling if p["payload"] == numbers.scan_payload["510121-ZJ"]]
    before = on_hand(client, "510121-ZJ", "NH2014", "2014-01")
    assert scan(client, identifier, mine[0]["payload"], who="requester").status_code == 200
    done = post(client, f"/scan-documents/{identifier}/post", {}, "requester")
    assert done.status_code == 200 and done.json()["transaction_number"].startswith("QS-")
    assert on_hand(client, "510121-ZJ", "NH2014", "2014-01") == before + 500


def test_announce_a_delivery_then_print_and_receive_it(client):
    announced = post(
        client,
        "/deliveries",
        {
            "location_code": "510100",
            "item_code": "NH2014",
            "batch_number": "2014-10",
            "quantity": 1100,
        },
    )
    assert announced.status_code == 201, announced.text
    packs = announced.json()
    assert [p["quantity"] for p in packs] == [500, 500, 100]
    assert {p["state"] for p in packs} == {"announced"}
    sheet = client.get(
        f"{V1}/batches/NH2014/2014-10/labels",
        params={"location": "510100", "columns": 2, "rows": 4},
        headers=headers("clerk-city"),
    )
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "application/pdf"
    page = pypdfium2.PdfDocument(sheet.content)[0].render(scale=3).to_pil().convert("L")
    found, texts, _, _ = cv2.QRCodeDetector().detectAndDecodeMulti(np.array(page))
    assert found and sorted(texts) == sorted(p["payload"] for p in packs)
    document = post(client, "/scan-documents", {"purpose": "receive", "location_code": "510100"})
    identifier = document.json()["id"]
    for pack in packs[:2]:
        assert scan(client, identifier, pack["payload"]).status_code == 200
    posted = post(client, f"/scan-documents/{identifier}/post", {"occurred_on": "2026-06-30"})
    assert posted.json()["transaction_number"].startswith("RK-")
    assert on_hand(client, "510100", "NH2014", "2014-10") == 1000


def test_one_label_as_png_and_svg(client):
    serial = packs_at(client, "510100")[0]["serial"]
    png = client.get(
        f"{V1}/batches/NH2014/2014-01/packs/{serial}/label", headers=headers("clerk-city")
    )
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    image = cv2.imdecode(np.frombuffer(png.content, np.uint8), cv2.IMREAD_GRAYSCALE)
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert f".{serial}.500." in text
    svg = client.get(
        f"{V1}/batches/NH2014/2014-01/packs/{serial}/label",
        params={"format": "svg"},
        headers=headers("clerk-city"),
    )
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "年画" in svg.text and "数量 500 张/捆" in svg.text


def test_opening_a_pack_makes_it_unscannable(client):
    payload = packs_at(client, "510100")[0]["payload"]
    opened = post(client, "/packs/open", {"payload": payload, "location_code": "510100"})
    assert opened.status_code == 200 and opened.json()["state"] == "opened"
    document = open_issue(client)
    refused = scan(client, document, payload)
    assert refused.status_code == 409 and refused.json()["code"] == "pack_opened"
    nothing = post(client, f"/scan-documents/{document}/post", {})
    assert nothing.status_code == 409 and nothing.json()["code"] == "nothing_scanned"


def test_the_scan_page_is_for_a_signed_in_browser(client):
    """/scan is a workspace page on the web session (tests/web/test_stocktakes_scan.py drives
    it signed in): a bearer token does not open it; the browser is sent to sign in and back."""
    for extra in ({}, headers("clerk-city")):
        page = client.get("/scan", headers=extra, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/?next=/scan"
    page = client.get("/scan")
    assert page.headers["content-type"] == "text/html; charset=utf-8"  # the charset said once
    assert 'name="next" value="/scan"' in page.text and 'id="payload"' not in page.text


def test_a_document_totals_each_unit_apart(client):
    """年画 in 张 and condoms in 只 are scanned into one issue: its totals never add them."""
    condoms = receive_soon_expiring(client)  # one 箱 of 720 只
    document = open_issue(client)
    nianhua = packs_at(client, "510100")[0]
    assert scan(client, document, nianhua["payload"]).status_code == 200
    answer = scan(client, document, condoms).json()["document"]
    expected = {"张": nianhua["quantity"], "只": 720}
    assert {q["base_unit"]: q["quantity"] for q in answer["quantities"]} == expected
    assert answer["packs"] == 2 and "quantity" not in answer
    full = client.get(f"{V1}/scan-documents/{document}", headers=headers("clerk-city")).json()
    assert {q["base_unit"]: q["quantity"] for q in full["quantities"]} == expected
