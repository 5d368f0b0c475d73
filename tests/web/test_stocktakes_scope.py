"""盘点's "选中的下级库点": the open form lists the places under the counted location that the
user reaches (its whole subtree, as the service's `location_codes` accepts), not the clerk's own
place only; a count opened with some of them counts there; htmx refreshes the list when an
auditor picks another location; a place outside the location's subtree is refused beside the
list."""

from __future__ import annotations

import re

from ledger.services import lookups, stocktakes
from tests.web.test_stocktakes import as_user, post_form, text_of

CLERK = "clerk@510121"


def listed(page: str) -> list[str]:
    """The codes the sub-places list offers."""
    field = re.search(r'id="sub-places".*?</select>', page, re.S)
    assert field, "no list of places below"
    return re.findall(r'<option value="([^"]+)"', field.group(0))


def below(database, code: str) -> list[str]:
    """The physical places under a location, itself left out, read from the catalogue."""
    top = lookups.location(database, code)
    found = lookups.locations(database, top.path, None, False, 1000, 0)
    return [p.code for p in found if p.physical and p.code != code]


def test_the_clerk_of_a_county_may_pick_its_townships_and_villages(web_database):
    with as_user(web_database, CLERK) as clerk:
        page = clerk.get("/stocktakes").text
        offered = listed(page)
        assert offered == below(web_database, "510121")
        assert {"510121-ZJ", "510121-HK", "510121-ZJ-PS"} <= set(offered)
        assert "510121" not in offered and not any(c.startswith("510181") for c in offered)
        answer = post_form(
            clerk,
            page,
            "open-stocktake",
            "/stocktakes",
            location_code="510121",
            scope="listed",
            location_codes=["510121-ZJ", "510121-ZJ-PS"],
            cut_off="2026-06-30",
        )
        assert answer.status_code == 303, text_of(answer.text)
        number = re.search(r"(ST-\d{4}-\d+)", answer.headers["location"]).group(1)
        shown = clerk.get(f"/stocktakes/{number}").text
    count = stocktakes.get(web_database, number)
    assert not count.include_subtree
    assert set(count.location_codes) == {"510121-ZJ", "510121-ZJ-PS"}
    assert "赵家镇" in text_of(shown) and "平水村" in text_of(shown)


def test_a_place_outside_the_location_is_refused_beside_the_list(web_database):
    with as_user(web_database, "auditor@510100") as auditor:
        page = auditor.get("/stocktakes").text
        # an auditor picks the place to count: the list follows it (htmx)
        part = auditor.get("/stocktakes/places", params={"location_code": "510121-ZJ"})
        assert part.status_code == 200
        assert listed(part.text) == below(web_database, "510121-ZJ") != []
        assert 'hx-get="/stocktakes/places"' in page
        answer = post_form(
            auditor,
            page,
            "open-stocktake",
            "/stocktakes",
            location_code="510121-ZJ",
            scope="listed",
            location_codes=["510181"],
            cut_off="2026-06-30",
        )
        assert answer.status_code == 422
        error = re.search(r'id="e-location_codes"[^>]*>([^<]*)<', answer.text)
        assert error and "不在 赵家镇 之下" in error.group(1)
        assert listed(answer.text) == below(web_database, "510121-ZJ")  # kept for the place


def test_a_village_has_no_places_below(web_database):
    with as_user(web_database, CLERK) as clerk:
        part = clerk.get("/stocktakes/places", params={"location_code": "510121-ZJ-PS"})
        assert listed(part.text) == [] and 'id="no-sub-places"' in part.text
        unknown = clerk.get("/stocktakes/places", params={"location_code": "NOWHERE"})
        assert listed(unknown.text) == []
        outside = clerk.get("/stocktakes/places", params={"location_code": "510181"})
        assert listed(outside.text) == []  # another county's places are not offered
