"""Which norm is in force (ledger.norms.norm_in_force), pure: a place's own norm for the item,
then its own for every item, then its city's level norm, then every city's level norm, then the
level's default; within one scope the newest valid on the day (by day, then by order set). A
city's level norm is never another city's, and a place's own norm is never another place's."""

from __future__ import annotations

import datetime as dt
import itertools

from ledger.model import LocationLevel
from ledger.norms import LEVEL_DEFAULTS, NormSetting, NormSource, norm_in_force

DAY = dt.date(2026, 6, 30)
CHENGDU, YUZHONG = 1, 50  # root location ids
ZHAOJIA, BAIGUO = 7, 8  # townships of 成都市
BYT, GT = 100, 101  # item ids
_ids = itertools.count(1)


def setting(
    low: int,
    high: int,
    *,
    level: str | None = None,
    city: int | None = None,
    place: int | None = None,
    item: int | None = None,
    valid_from: dt.date = DAY,
) -> NormSetting:
    return NormSetting(next(_ids), level, place, item, low, high, valid_from, city)


def in_force(settings, place=ZHAOJIA, item=BYT, city=CHENGDU, level="township", day=DAY):
    return tuple(norm_in_force(settings, level, place, item, day, root_id=city))


def test_each_scope_gives_way_to_the_more_specific_one_in_turn():
    scopes = [
        (setting(1, 9, level="township"), (1, 9, NormSource.level)),
        (setting(2, 8, level="township", city=CHENGDU), (2, 8, NormSource.city_level)),
        (setting(3, 7, place=ZHAOJIA), (3, 7, NormSource.location)),
        (setting(4, 6, place=ZHAOJIA, item=BYT), (4, 6, NormSource.location_item)),
    ]
    low, high = LEVEL_DEFAULTS[LocationLevel.township]
    assert in_force([]) == (low, high, NormSource.default)
    settings: list[NormSetting] = []
    for added, expected in scopes:
        settings.append(added)
        assert in_force(settings) == expected
        assert in_force(list(reversed(settings))) == expected  # the order given is no matter
    # set again later, a broader scope still loses to a narrower one
    settings.append(setting(5, 5, level="township"))
    settings.append(setting(5, 5, level="township", city=CHENGDU))
    assert in_force(settings) == (4, 6, NormSource.location_item)
    assert in_force(settings, item=GT) == (3, 7, NormSource.location)
    assert in_force(settings, place=BAIGUO) == (5, 5, NormSource.city_level)


def test_a_citys_level_norm_is_for_that_city_and_that_level_only():
    settings = [
        setting(1, 2, level="township", city=YUZHONG),
        setting(3, 5, level="county", city=CHENGDU),
        setting(2, 4, level="township"),
    ]
    assert in_force(settings) == (2, 4, NormSource.level)  # 成都市 has no township norm
    assert in_force(settings, city=YUZHONG, place=60) == (1, 2, NormSource.city_level)
    assert in_force(settings, city=None) == (2, 4, NormSource.level)  # no city: every city's
    assert in_force(settings, level="county", place=3) == (3, 5, NormSource.city_level)
    low, high = LEVEL_DEFAULTS[LocationLevel.county]
    assert in_force(settings, level="county", city=YUZHONG, place=51) == (
        low,
        high,
        NormSource.default,
    )


def test_the_newest_valid_on_the_day_wins_within_a_scope():
    later = DAY + dt.timedelta(days=5)
    earlier = DAY - dt.timedelta(days=5)
    settings = [
        setting(2, 4, level="township", city=CHENGDU, valid_from=earlier),
        setting(3, 6, level="township", city=CHENGDU, valid_from=later),
        setting(1, 2, level="township", city=CHENGDU, valid_from=earlier),  # same day, set after
    ]
    assert in_force(settings) == (1, 2, NormSource.city_level)
    assert in_force(settings, day=later) == (3, 6, NormSource.city_level)
    low, high = LEVEL_DEFAULTS[LocationLevel.township]
    assert in_force(settings, day=earlier - dt.timedelta(days=1)) == (
        low,
        high,
        NormSource.default,
    )


def test_another_places_own_norm_does_not_apply():
    settings = [setting(4, 8, place=BAIGUO), setting(5, 9, place=BAIGUO, item=BYT)]
    low, high = LEVEL_DEFAULTS[LocationLevel.township]
    assert in_force(settings) == (low, high, NormSource.default)
