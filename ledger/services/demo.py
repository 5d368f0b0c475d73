"""Demo data built from the seed documents (成都市人口计生宣教中心 2014 work summaries).

A city (成都市) with its 20 区(市)县, a few townships with villages (金堂县赵家镇平水村 …), the
2014 print runs with their real quantities — 年画 93万张, 历书 1.4万本, 壁报 26900套, 文摘 213000册,
挂图 一套4张 共66000张, 叠页 110000张 — contraceptive batches with expiry dates, and about four
months of movements ending on the day it is loaded: allocation down to the districts by weights,
confirmations (one short, one still in transit), onward issues to townships and villages,
distributions at 5.29 and 7.11 events, write-offs, a stocktake loss, a reversal and an approved
allocation holding a reservation. Everything goes through the use cases, so every rule applies.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from ledger import commands as c
from ledger.allocation import Share
from ledger.db.import_rows import set_populations
from ledger.model import Item, ItemKind, Location, LocationLevel, Pack, Role
from ledger.services.allocation import issue_plan, make_plan
from ledger.services.database import Database
from ledger.services.ledger import execute, execute_many
from ledger.services.users import add_user
from ledger.services.web_sign_in import demo_password_hash, set_sign_in
from ledger.services.work import day

CITY = Location("510100", "成都市", LocationLevel.city)

# The 20 区(市)县 of 成都, with weights roughly proportional to resident population (万人).
COUNTIES: tuple[tuple[str, str, int], ...] = (
    ("510104", "锦江区", 90),
    ("510105", "青羊区", 96),
    ("510106", "金牛区", 127),
    ("510107", "武侯区", 121),
    ("510108", "成华区", 138),
    ("510112", "龙泉驿区", 135),
    ("510113", "青白江区", 49),
    ("510114", "新都区", 156),
    ("510115", "温江区", 97),
    ("510116", "双流区", 147),
    ("510117", "郫都区", 139),
    ("510118", "新津区", 36),
    ("510121", "金堂县", 80),
    ("510129", "大邑县", 52),
    ("510131", "蒲江县", 26),
    ("510181", "都江堰市", 71),
    ("510182", "彭州市", 78),
    ("510183", "邛崃市", 60),
    ("510184", "崇州市", 74),
    ("510185", "简阳市", 112),
)

# Townships and their villages: (county code, township code, name, ((village code, name), …)).
TOWNSHIPS: tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "510121",
        "510121-ZJ",
        "赵家镇",
        (("510121-ZJ-PS", "平水村"), ("510121-ZJ-XH", "新华村"), ("510121-ZJ-TJ", "团结村")),
    ),
    ("510121", "510121-HK", "淮口镇", (("510121-HK-HG", "红光村"), ("510121-HK-GM", "光明村"))),
    (
        "510181",
        "510181-QCS",
        "青城山镇",
        (("510181-QCS-HP", "和平村"), ("510181-QCS-CA", "长安村")),
    ),
    ("510117", "510117-TC", "唐昌镇", (("510117-TC-XC", "新春村"), ("510117-TC-FX", "复兴村"))),
    ("510113", "510113-CX", "城厢镇", (("510113-CX-SQ", "十字社区"),)),
)

ITEMS: tuple[Item, ...] = (
    Item(
        "NH2014",
        "2014年慰问独生子女家庭户单张年画",
        ItemKind.printed,
        "年画",
        "张",
        (Pack("捆", 500),),
    ),
    Item("LS2014", "2014年计划生育宣传历书", ItemKind.printed, "历书", "本", (Pack("捆", 50),)),
    Item("BB2014", "计划生育壁报", ItemKind.printed, "壁报", "套", (Pack("捆", 100),)),
    Item("WZ2014", "人口.家庭.文摘", ItemKind.printed, "文摘", "册", (Pack("捆", 100),)),
    Item(
        "GT2014",
        "成都市单独两孩政策宣传挂图（一套4张）",
        ItemKind.printed,
        "挂图",
        "张",
        (Pack("套", 4), Pack("捆", 400)),
    ),
    Item(
        "DY2014",
        "成都市单独两孩政策相关规定叠页",
        ItemKind.printed,
        "叠页",
        "张",
        (Pack("捆", 1000),),
    ),
    Item(
        "BYT",
        "避孕套（中号）",
        ItemKind.contraceptive,
        "避孕套",
        "只",
        (Pack("盒", 3), Pack("箱", 720)),
        expiry_tracked=True,
    ),
    Item(
        "KFBYY",
        "复方左炔诺孕酮片（口服避孕药）",
        ItemKind.contraceptive,
        "口服避孕药",
        "板",
        (Pack("箱", 200),),
        expiry_tracked=True,
    ),
    Item(
        "WYBYY",
        "壬苯醇醚栓（外用避孕药）",
        ItemKind.contraceptive,
        "外用避孕药",
        "支",
        (Pack("盒", 10),),
        expiry_tracked=True,
    ),
)

# Print runs from seed 000 (2014 上半年): item, print run, quantity in base units.
PRINT_RUNS: tuple[tuple[str, str, int], ...] = (
    ("NH2014", "2014-01", 930_000),
    ("LS2014", "2014-01", 14_000),
    ("BB2014", "2014-01", 26_900),
    ("WZ2014", "2014-01", 213_000),
    ("GT2014", "2014-01", 66_000),
    ("DY2014", "2014-01", 110_000),
)


# Demo API users: (role, location, label). Their tokens are fixed so the README's examples work;
# a real deployment creates users with `ledger users add`, which makes random tokens.
DEMO_USERS: tuple[tuple[Role, str, str], ...] = (
    (Role.admin, "510100", "系统管理员"),
    (Role.clerk, "510100", "市宣传中心仓库保管员"),
    (Role.auditor, "510100", "市级审计"),
    (Role.clerk, "510121", "金堂县仓库保管员"),
    (Role.approver, "510121", "金堂县审批"),
    (Role.requester, "510121-ZJ", "赵家镇计生办"),
)


DEMO_PASSWORD = "demo-password"  # every demo user's password for the web workspace (published)


def demo_login(role: str, location_code: str) -> str:
    """The name a demo user signs in to the workspace with: clerk@510100."""
    return f"{role}@{location_code}".lower()


def demo_token(role: str, location_code: str) -> str:
    return f"lgr_demo-{role}-{location_code}"


class DemoSummary(msgspec.Struct, frozen=True):
    locations: int
    items: int
    transactions: int
    start: dt.date
    end: dt.date
    tokens: tuple[tuple[str, str, str], ...] = ()  # (label, role@location, token)


def load_demo(database: Database, today: dt.date | None = None) -> DemoSummary:
    """Load the demo into an empty ledger; dates end on `today` (default: the office's)."""
    end = day(today)
    locations = _locations()
    execute_many(
        database,
        [c.AddItem(item) for item in ITEMS] + [c.AddLocation(location) for location in locations],
        None,
        end,
    )
    # 人口 of the 区(市)县 (万人 above): a city's allocation plan's default weights
    populations = {code: weight * 10_000 for code, _, weight in COUNTIES}
    database.write(lambda store: set_populations(store, populations))
    # The demo's users, first: each voucher is made by the user of the place it belongs to
    # (the warehouse clerk, or the township's requester for its arrivals), where there is one.
    tokens = []
    makers: dict[str, int] = {}
    for role, location, label in DEMO_USERS:
        token = demo_token(role, location)
        user, _ = add_user(database, label, role, location, token)
        set_sign_in(
            database,
            user.id,
            demo_login(role, location),
            None,
            hashed=demo_password_hash(DEMO_PASSWORD),
        )
        tokens.append((label, f"{role}@{location}", token))
        if role in (Role.clerk, Role.requester):
            makers[location] = user.id
    demo = _Story(database, makers, end - dt.timedelta(days=120), end)
    demo.deliveries()
    shipments = demo.allocation()
    demo.confirmations(shipments)
    demo.onward()
    demo.events()
    demo.write_offs_and_count()
    # 8. An approved allocation request from 淮口镇 holds a reservation at 金堂县.
    execute(
        database,
        c.Reserve("SQ-DEMO-0001", "510121", "BYT", 20, unit="盒", occurred_on=demo.day(110)),
        None,
        end,
    )
    return DemoSummary(len(locations), len(ITEMS), demo.count, demo.start, end, tuple(tokens))


def _locations() -> list[Location]:
    locations = [CITY]
    locations += [
        Location(code, name, LocationLevel.county, CITY.code) for code, name, _ in COUNTIES
    ]
    for county, township, name, villages in TOWNSHIPS:
        locations.append(Location(township, name, LocationLevel.township, county))
        locations += [
            Location(code, vname, LocationLevel.village, township) for code, vname in villages
        ]
    return locations


class _Story:
    """The demo's four months, step by step: each voucher made by the user of its place, each
    posted on the ledger's today (`end`)."""

    def __init__(self, database: Database, makers: dict[str, int], start: dt.date, end: dt.date):
        self.database, self.makers, self.start, self.end = database, makers, start, end
        self.count = 0  # vouchers posted

    def day(self, offset: int) -> dt.date:
        return self.start + dt.timedelta(days=offset)

    def post(self, command) -> Any:
        """Carry out a command as the maker of its place: a Transaction (a reservation for
        Reserve)."""
        self.count += 1
        maker = self.makers.get(_place_of(self.database, command))
        return execute(self.database, command, maker, self.end)

    def deliveries(self) -> None:
        # 1. Print runs and the province's contraceptive allocation arrive at the city warehouse.
        self.post(
            c.Receive(
                CITY.code,
                tuple(
                    c.ReceiptLine(item, run, qty, produced_on=self.day(0))
                    for item, run, qty in PRINT_RUNS
                ),
                occurred_on=self.day(0),
                memo="2014年上半年宣传品印制入库",
            )
        )
        self.post(
            c.Receive(
                CITY.code,
                (
                    c.ReceiptLine(
                        "BYT",
                        "BYT-2401",
                        40,
                        "箱",
                        self.day(0) - dt.timedelta(days=700),
                        self.end + dt.timedelta(days=40),
                    ),
                    c.ReceiptLine(
                        "BYT",
                        "BYT-2503",
                        60,
                        "箱",
                        self.day(0) - dt.timedelta(days=300),
                        self.end + dt.timedelta(days=700),
                    ),
                    c.ReceiptLine(
                        "KFBYY",
                        "KF-2502",
                        30,
                        "箱",
                        self.day(0) - dt.timedelta(days=400),
                        self.end + dt.timedelta(days=420),
                    ),
                    c.ReceiptLine(
                        "WYBYY",
                        "WY-2406",
                        500,
                        "盒",
                        self.day(0) - dt.timedelta(days=600),
                        self.day(60),
                    ),
                    c.ReceiptLine(
                        "WYBYY",
                        "WY-2511",
                        800,
                        "盒",
                        self.day(0) - dt.timedelta(days=90),
                        self.end + dt.timedelta(days=900),
                    ),
                ),
                occurred_on=self.day(1),
                memo="省计生药具站调拨药具入库",
            )
        )

    def allocation(self) -> dict[str, list[str]]:
        # 2. Push allocation to the 20 区(市)县 by weight, in whole packs.
        shares = [Share(code, weight) for code, _, weight in COUNTIES]
        shipments: dict[str, list[str]] = {code: [] for code, _, _ in COUNTIES}
        for item_code, quantity, unit in (
            ("NH2014", 900_000, None),
            ("GT2014", 64_000, "套"),
            ("DY2014", 100_000, None),
            ("BYT", 60 * 720, None),
        ):
            plan = make_plan(self.database, CITY.code, item_code, quantity, shares, unit, self.end)
            for transaction in issue_plan(
                self.database,
                plan,
                CITY.code,
                item_code,
                self.day(10),
                "按人口分配下发",
                actor=self.makers.get(CITY.code),
                today=self.end,
            ):
                assert transaction.counterparty_code is not None  # an issue names where to
                shipments[transaction.counterparty_code].append(transaction.number)
                self.count += 1
        return shipments

    def confirmations(self, shipments: dict[str, list[str]]) -> None:
        # 3. The districts confirm arrival: 金牛区 short by two 捆 of 年画; 简阳市 still in transit.
        for county, numbers in shipments.items():
            if county == "510185":
                continue
            for number in numbers:
                received: tuple[c.ReceivedLine, ...] = ()
                shortage = None
                if county == "510106" and number == numbers[0]:
                    shipped = _shipped(self.database, number)
                    received = (c.ReceivedLine("NH2014", "2014-01", shipped - 1000),)
                    shortage = c.Shortage(  # the receiver's second step: what is missing, and why
                        c.ShortageReason.damaged,
                        (c.ShortageLine("NH2014", "2014-01", 1000),),
                        "两捆外包装破损受潮",
                    )
                self.post(
                    c.Confirm(
                        number,
                        received,
                        occurred_on=self.day(14),
                        memo="区县签收",
                        shortage=shortage,
                    )
                )

    def onward(self) -> None:
        # 4. Counties issue on to their townships; townships confirm and pass to villages.
        township_flow = [
            ("510121", "510121-ZJ", 12_000),
            ("510121", "510121-HK", 9_000),
            ("510181", "510181-QCS", 8_000),
            ("510117", "510117-TC", 10_000),
            ("510113", "510113-CX", 6_000),
        ]
        for county, township, nianhua in township_flow:
            shipment = self.post(
                c.Issue(
                    county,
                    township,
                    (
                        c.LineSpec("NH2014", nianhua),
                        c.LineSpec("GT2014", 100, unit="套"),
                        c.LineSpec("BYT", 30, unit="盒"),
                    ),
                    occurred_on=self.day(20),
                    memo="下发乡镇",
                )
            )
            self.post(c.Confirm(shipment.number, occurred_on=self.day(22), memo="乡镇签收"))
        for _, township, _, villages in TOWNSHIPS:
            for village_code, _ in villages:
                shipment = self.post(
                    c.Issue(
                        township,
                        village_code,
                        (c.LineSpec("NH2014", 1500), c.LineSpec("GT2014", 10, unit="套")),
                        occurred_on=self.day(30),
                        memo="进村入户",
                    )
                )
                self.post(c.Confirm(shipment.number, occurred_on=self.day(31), memo="村签收"))
                self.post(
                    c.Distribute(
                        village_code,
                        (c.LineSpec("NH2014", 1200), c.LineSpec("GT2014", 8, unit="套")),
                        occurred_on=self.day(40),
                        memo="年画入户发放",
                    )
                )

    def events(self) -> None:
        # 5. Events: 5.29 and 7.11 distributions at the townships.
        for _, township, _, _ in TOWNSHIPS:
            self.post(
                c.Distribute(
                    township,
                    (c.LineSpec("BYT", 5, unit="盒"), c.LineSpec("NH2014", 500)),
                    occurred_on=self.day(60),
                    memo="5.29 计生协会活动日宣传咨询",
                )
            )
        mistaken = self.post(
            c.Distribute(
                "510121-ZJ",
                (c.LineSpec("BYT", 10, unit="盒"),),
                occurred_on=self.day(70),
                memo="7.11 世界人口日",
            )
        )
        self.post(c.Reverse(mistaken.number, occurred_on=self.day(71), memo="数量登记错误，红冲"))
        self.post(
            c.Distribute(
                "510121-ZJ",
                (c.LineSpec("BYT", 1, unit="盒"),),
                occurred_on=self.day(71),
                memo="7.11 世界人口日",
            )
        )

    def write_offs_and_count(self) -> None:
        # 6. Write-offs: damaged 年画 at a county; the expired 外用避孕药 batch at the city.
        self.post(
            c.WriteOff(
                "510113",
                (c.LineSpec("NH2014", 300, "2014-01"),),
                "damaged",
                occurred_on=self.day(80),
                memo="仓库漏雨受潮",
            )
        )
        self.post(
            c.WriteOff(
                CITY.code,
                (c.LineSpec("WYBYY", 5000, "WY-2406"),),
                "expired",
                occurred_on=self.day(90),
                memo="过期药具销毁",
            )
        )
        # 7. A stocktake at 赵家镇: two 张 of 年画 missing (盘亏).
        self.post(
            c.Adjust(
                "510121-ZJ",
                (c.AdjustLine("NH2014", "2014-01", -2),),
                occurred_on=self.day(100),
                memo="季度盘点盘亏",
            )
        )


def _place_of(database: Database, command) -> str:
    """The location whose voucher a command makes: the issuing warehouse, the receiver of a
    confirmation, the location of the reversed voucher, else the command's own location."""
    if isinstance(command, c.Issue):
        return command.source_code
    if isinstance(command, c.Confirm | c.Reverse):
        number = (
            command.shipment_number
            if isinstance(command, c.Confirm)
            else (command.transaction_number)
        )
        original = database.lookup(lambda store: store.transaction_by_number(number))
        if isinstance(command, c.Confirm):
            return original.counterparty_code or ""
        return original.location_code
    return command.location_code


def _shipped(database: Database, number: str) -> int:
    transaction = database.lookup(lambda store: store.transaction_by_number(number))
    return sum(
        p.quantity
        for p in transaction.postings
        if p.location_code == "in-transit" and p.item_code == "NH2014"
    )
