"""A believable demo province, so that a new user sees real-looking reports at once.

``load_demo`` builds, in one unit of work: a UBND tỉnh with its office, several sở with
their phòng, a huyện with its thị trấn and xã, a thành phố with its phường; 300+ staff with
Vietnamese names, positions, categories and card numbers; one station per building; four
weeks of working days of badge scans up to and including ``today`` (punctual majority, a
minority occasionally late, a few habitual late-comers, forgotten check-outs, absences),
guards' no-badge records, approved leave, business trips and half days, spot checks with
findings, demo accounts for each role and, when the badge service is available, a badge
for everyone.

Everything is drawn from one ``random.Random(seed)``: the same seed and ``today`` give the
same province (station keys, badge serials and password salts are random on purpose).
Communes and wards use the ``phuong`` schedule (``session`` check-in mode) when the config
defines it, and the default schedule otherwise.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attendance import deployment
from attendance.audit import record
from attendance.calendar import WorkCalendar
from attendance.config import Config, Schedule
from attendance.models.chain import BulkChains
from attendance.models import (
    Employee,
    Excuse,
    ExcuseDecision,
    NoBadgeRecord,
    Scan,
    SpotCheck,
    SpotCheckFinding,
    Station,
    Unit,
    User,
)

DEFAULT_SEED = 2026
DEMO_PASSWORD = "demo123"
WARD_SCHEDULE = "phuong"
WEEKS = 4
EMAIL_DOMAIN = "quangnam.gov.vn"


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# --- names ------------------------------------------------------------------------------

# Family names with rough weights for central Việt Nam (Nguyễn first, Huỳnh and Võ common).
FAMILY_NAMES = [
    ("Nguyễn", 30), ("Trần", 10), ("Lê", 9), ("Phạm", 6), ("Huỳnh", 6), ("Võ", 6),
    ("Phan", 5), ("Trương", 3), ("Đặng", 3), ("Bùi", 2), ("Đỗ", 2), ("Hồ", 3), ("Ngô", 2),
    ("Dương", 2), ("Đoàn", 2), ("Lương", 1), ("Đinh", 1), ("Hà", 1), ("Mai", 1), ("Tô", 1),
    ("Châu", 1), ("Thái", 1), ("Lâm", 1), ("Cao", 1),
]
MIDDLE_MALE = ["Văn", "Văn", "Văn", "Hữu", "Đức", "Minh", "Quang", "Thanh", "Công", "Xuân",
               "Ngọc", "Anh", "Đình", "Tấn", "Bá", "Quốc", "Trọng", "Hoài", "Phước", "Duy"]
MIDDLE_FEMALE = ["Thị", "Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Minh", "Bích",
                 "Hoài", "Mỹ", "Thị Thu", "Thị Kim", "Thị Mỹ", "Diệu", "Phương", "Bảo"]
GIVEN_MALE = ["An", "Bảo", "Bình", "Cường", "Dũng", "Đạt", "Định", "Hải", "Hiếu", "Hoàng",
              "Hùng", "Huy", "Khánh", "Khoa", "Lâm", "Lộc", "Long", "Lợi", "Minh", "Nam",
              "Nghĩa", "Nhân", "Phong", "Phúc", "Phước", "Quân", "Quang", "Sang", "Sơn", "Tài",
              "Tâm", "Thắng", "Thành", "Thiện", "Thịnh", "Toàn", "Trí", "Trung", "Tuấn", "Tùng",
              "Việt", "Vinh", "Vũ"]
GIVEN_FEMALE = ["Anh", "Châu", "Chi", "Diễm", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền",
                "Hoa", "Hồng", "Huệ", "Hương", "Lan", "Liên", "Linh", "Loan", "Mai", "My",
                "Nga", "Ngân", "Ngọc", "Nhung", "Oanh", "Phương", "Quyên", "Sương", "Tâm",
                "Thảo", "Thoa", "Thủy", "Trang", "Trinh", "Tuyết", "Uyên", "Vân", "Vy", "Xuân",
                "Yến"]


def _full_name(rng: random.Random) -> str:
    family = rng.choices([n for n, _ in FAMILY_NAMES], weights=[w for _, w in FAMILY_NAMES])[0]
    if rng.random() < 0.5:
        middle, given = rng.choice(MIDDLE_MALE), rng.choice(GIVEN_MALE)
    else:
        middle, given = rng.choice(MIDDLE_FEMALE), rng.choice(GIVEN_FEMALE)
    return nfc(f"{family} {middle} {given}")


def _ascii(text: str) -> str:
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


# --- the province -----------------------------------------------------------------------


@dataclass
class UnitPlan:
    code: str
    name: str
    parent: str | None
    kind: str  # root, office, agency, dept, center, commune
    station: str | None = None  # a building with its own entrance
    schedule: str | None = None


def _province_plan(root_name: str) -> list[UnitPlan]:
    plans = [UnitPlan("UBND", root_name, None, "root", "Trụ sở UBND tỉnh"),
             UnitPlan("VPUB", "Văn phòng UBND tỉnh", "UBND", "office")]
    plans += [UnitPlan(f"VPUB-{c}", n, "VPUB", "dept") for c, n in (
        ("TH", "Phòng Tổng hợp"), ("KT", "Phòng Kinh tế"), ("HCTC", "Phòng Hành chính - Tổ chức"))]
    agencies = [
        ("SNV", "Sở Nội vụ", [("VP", "Văn phòng Sở"), ("TCBC", "Phòng Tổ chức - Biên chế"),
                               ("CCHC", "Phòng Cải cách hành chính"), ("TTR", "Thanh tra Sở")]),
        ("STC", "Sở Tài chính", [("VP", "Văn phòng Sở"), ("NS", "Phòng Quản lý ngân sách"),
                                  ("GCS", "Phòng Quản lý giá và công sản")]),
        ("SYT", "Sở Y tế", [("VP", "Văn phòng Sở"), ("NVY", "Phòng Nghiệp vụ Y"),
                             ("NVD", "Phòng Nghiệp vụ Dược"), ("CDC", "Trung tâm Kiểm soát bệnh tật")]),
        ("SGDDT", "Sở Giáo dục và Đào tạo", [("VP", "Văn phòng Sở"),
                                             ("GDTrH", "Phòng Giáo dục Trung học"),
                                             ("GDMN", "Phòng Giáo dục Mầm non và Tiểu học"),
                                             ("KT", "Phòng Khảo thí và Quản lý chất lượng")]),
        ("STP", "Sở Tư pháp", [("VP", "Văn phòng Sở"), ("HCTP", "Phòng Hành chính tư pháp"),
                                ("PBGD", "Phòng Phổ biến, giáo dục pháp luật")]),
    ]
    for code, name, depts in agencies:
        plans.append(UnitPlan(code, name, "UBND", "agency", f"Cổng {name}"))
        for dept_code, dept_name in depts:
            kind = "center" if dept_code == "CDC" else "dept"
            station = f"Cổng {dept_name}" if kind == "center" else None
            plans.append(UnitPlan(f"{code}-{dept_code}", dept_name, code, kind, station))
    plans.append(UnitPlan("HNT", "UBND huyện Núi Thành", "UBND", "agency", "Trụ sở UBND huyện Núi Thành"))
    plans += [UnitPlan(f"HNT-{c}", n, "HNT", "dept") for c, n in (
        ("VP", "Văn phòng HĐND và UBND huyện"), ("NV", "Phòng Nội vụ"),
        ("TCKH", "Phòng Tài chính - Kế hoạch"))]
    plans += [UnitPlan(f"HNT-{c}", n, "HNT", "commune", f"Trụ sở {n}", WARD_SCHEDULE) for c, n in (
        ("TTNT", "UBND thị trấn Núi Thành"), ("TQ", "UBND xã Tam Quang"),
        ("TH", "UBND xã Tam Hiệp"), ("TN", "UBND xã Tam Nghĩa"))]
    plans.append(UnitPlan("TPTK", "UBND thành phố Tam Kỳ", "UBND", "agency", "Trụ sở UBND thành phố Tam Kỳ"))
    plans.append(UnitPlan("TPTK-VP", "Văn phòng HĐND và UBND thành phố", "TPTK", "dept"))
    plans += [UnitPlan(f"TPTK-{c}", n, "TPTK", "commune", f"Trụ sở {n}", WARD_SCHEDULE) for c, n in (
        ("AM", "UBND phường An Mỹ"), ("TT", "UBND phường Tân Thạnh"), ("HT", "UBND phường Hòa Thuận"))]
    return plans


def _leaders(plan: UnitPlan) -> tuple[str, str, str]:
    """(head's position, deputy's position, category) of a unit's leadership."""
    name = plan.name
    if plan.kind == "root":
        return "Chủ tịch UBND tỉnh", "Phó Chủ tịch UBND tỉnh", "CB"
    if plan.kind == "office":
        return "Chánh Văn phòng", "Phó Chánh Văn phòng", "CC"
    if plan.kind == "agency" and name.startswith("Sở"):
        return "Giám đốc Sở", "Phó Giám đốc Sở", "CC"
    if plan.kind == "agency":
        level = "huyện" if "huyện" in name else "thành phố"
        return f"Chủ tịch UBND {level}", f"Phó Chủ tịch UBND {level}", "CB"
    if plan.kind == "center":
        return "Giám đốc Trung tâm", "Phó Giám đốc Trung tâm", "VC"
    if plan.kind == "commune":
        return "Chủ tịch UBND", "Phó Chủ tịch UBND", "CB"
    if name.startswith("Văn phòng"):
        return "Chánh Văn phòng", "Phó Chánh Văn phòng", "CC"
    if name.startswith("Thanh tra"):
        return "Chánh Thanh tra", "Phó Chánh Thanh tra", "CC"
    return "Trưởng phòng", "Phó Trưởng phòng", "CC"


def _staff_positions(plan: UnitPlan, rng: random.Random) -> list[tuple[str, str]]:
    """(position, category) of the unit's own staff besides its leadership."""
    if plan.kind in ("root", "agency", "office"):
        return []  # their leadership only; the staff sit in the phòng
    if plan.kind == "center":
        staff = [("Bác sĩ", "VC")] * rng.randint(3, 5) + [("Y sĩ", "VC")] * rng.randint(2, 3)
        staff += [("Điều dưỡng", "VC")] * rng.randint(2, 3)
        staff += [("Kỹ thuật viên xét nghiệm", "VC")] * rng.randint(2, 3)
        staff += [("Kế toán", "VC"), ("Nhân viên bảo vệ", "HĐ"), ("Nhân viên tạp vụ", "HĐ")]
        return staff
    if plan.kind == "commune":
        return [("Công chức Văn phòng - Thống kê", "CC"), ("Công chức Địa chính - Xây dựng", "CC"),
                ("Công chức Tư pháp - Hộ tịch", "CC"), ("Công chức Tài chính - Kế toán", "CC"),
                ("Công chức Văn hóa - Xã hội", "CC"), ("Chỉ huy trưởng Quân sự", "CC"),
                ("Chủ tịch Ủy ban MTTQ", "CB"), ("Nhân viên tạp vụ", "HĐ")]
    staff = [("Chuyên viên chính", "CC")] * rng.randint(1, 2)
    staff += [("Chuyên viên", "CC")] * rng.randint(3, 5)
    if plan.name.startswith("Văn phòng"):
        staff += [("Kế toán", "CC"), ("Văn thư", "CC"), ("Nhân viên lái xe", "HĐ"),
                  ("Nhân viên bảo vệ", "HĐ")]
    elif plan.name.startswith("Thanh tra"):
        staff = [("Thanh tra viên chính", "CC")] + [("Thanh tra viên", "CC")] * rng.randint(2, 4)
    else:
        staff += [("Cán sự", "CC")] * rng.randint(0, 2)
    return staff


# --- behaviour --------------------------------------------------------------------------


@dataclass
class Habits:
    late_rate: float
    late_max: int  # minutes
    early_rate: float
    forget_checkout_rate: float
    absence_rate: float
    no_badge_rate: float


def _habits(rng: random.Random, leader: bool) -> Habits:
    roll = rng.random()
    habits = Habits(late_rate=0.02, late_max=15, early_rate=0.015, forget_checkout_rate=0.015,
                    absence_rate=0.004, no_badge_rate=0.005)
    if leader:
        habits.late_rate, habits.absence_rate = 0.01, 0.0
    elif roll < 0.04:  # habitual late-comers
        habits.late_rate, habits.late_max, habits.absence_rate = 0.45, 45, 0.02
    elif roll < 0.07:  # forgets to scan on the way out
        habits.forget_checkout_rate = 0.3
    elif roll < 0.10:  # leaves early
        habits.early_rate = 0.3
    elif roll < 0.13:  # forgets the badge
        habits.no_badge_rate = 0.08
    elif roll < 0.35:  # occasionally late
        habits.late_rate = 0.08
    return habits


@dataclass
class Person:
    employee: Employee
    plan: UnitPlan
    station: str
    schedule_name: str | None
    habits: Habits
    leader: bool
    excused: dict[date, str] = field(default_factory=dict)  # day -> full | morning | afternoon


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    description: str


@dataclass
class DemoSummary:
    units: int = 0
    employees: int = 0
    stations: int = 0
    scans: int = 0
    no_badge: int = 0
    excuses: int = 0
    spot_checks: int = 0
    findings: int = 0
    badges: int | None = None  # None: the badge service is not available
    first_day: date | None = None
    last_day: date | None = None
    working_days: int = 0
    modes: tuple[str, ...] = ()
    accounts: list[DemoAccount] = field(default_factory=list)


def demo_needed(session: Session) -> bool:
    """True when the database holds no units yet (``demo --if-empty``)."""
    return not session.scalar(select(func.count()).select_from(Unit))


def _at(day: date, clock: datetime | time, minutes: float, tz) -> datetime:
    base = clock if isinstance(clock, datetime) else datetime.combine(day, clock, tz)
    return base + timedelta(seconds=round(minutes * 60))


class _Builder:
    def __init__(self, session: Session, config: Config, seed: int, today: date, now: datetime,
                 weeks: int = WEEKS):
        self.session = session
        self.config = config
        self.rng = random.Random(seed)
        self.today = today
        self.tz = config.tz
        self.calendar = WorkCalendar(config)
        end_of_today = datetime.combine(today + timedelta(days=1), time(0), self.tz)
        # Nothing happens after the moment the demo is loaded, when that is today.
        self.cutoff = min(now, end_of_today) if now.astimezone(self.tz).date() == today else end_of_today
        self.now = min(now, self.cutoff)
        self.first_day = today - timedelta(days=weeks * 7 - 1)
        self.ward_schedule = WARD_SCHEDULE if WARD_SCHEDULE in config.schedules else None
        self.summary = DemoSummary(first_day=self.first_day, last_day=today)
        self.units: dict[str, Unit] = {}
        self.plans: dict[str, UnitPlan] = {}
        self.stations: dict[str, Station] = {}
        self.people: list[Person] = []
        self.heads: dict[str, Employee] = {}
        self.payloads: dict[int, tuple[str, str]] = {}  # employee id -> (serial, QR text)

    # units, staff, stations

    def build_org(self) -> None:
        root_name = self.config.agency if self.config.agency.strip() not in ("", "UBND tỉnh") \
            else "UBND tỉnh Quảng Nam"
        for plan in _province_plan(root_name):
            if plan.schedule and not self.ward_schedule:
                plan.schedule = None  # the config has no ward timetable: the default one
            unit = Unit(code=plan.code, name=nfc(plan.name), schedule=plan.schedule,
                        parent=self.units[plan.parent] if plan.parent else None)
            self.units[plan.code] = unit
            self.plans[plan.code] = plan
        self.session.add_all(self.units.values())
        self.session.flush()
        self.summary.units = len(self.units)

        created = datetime.combine(self.first_day - timedelta(days=30), time(8), self.tz)
        for plan in self.plans.values():
            if plan.station is None:
                continue
            code = f"DQ-{plan.code}"
            key = secrets.token_urlsafe(32)
            self.stations[plan.code] = Station(
                code=code, name=nfc(plan.station), unit_id=self.units[plan.code].id,
                key_hash=hashlib.sha256(key.encode()).hexdigest(), created_at=created,
                last_seen_at=None, active=True)
        self.session.add_all(self.stations.values())
        self.summary.stations = len(self.stations)

        number = 0
        emails: set[str] = set()
        for plan in self.plans.values():
            head_position, deputy_position, leader_category = _leaders(plan)
            deputies = {"root": 3, "agency": 2, "office": 2, "center": 1, "commune": 2}.get(
                plan.kind, self.rng.choice([1, 1, 2]))
            roles = [(head_position, leader_category, True)]
            roles += [(deputy_position, leader_category, True)] * deputies
            roles += [(p, c, False) for p, c in _staff_positions(plan, self.rng)]
            for index, (position, category, leader) in enumerate(roles):
                number += 1
                name = _full_name(self.rng)
                slug = "".join(_ascii(name).lower().split())
                email = f"{slug}.{plan.code.lower()}@{EMAIL_DOMAIN}"
                if email in emails:
                    email = f"{slug}{number}.{plan.code.lower()}@{EMAIL_DOMAIN}"
                emails.add(email)
                start = date(self.rng.randint(1995, 2023), self.rng.randint(1, 12), 1)
                employee = Employee(
                    code=f"NV{number:06d}", full_name=name, unit_id=self.units[plan.code].id,
                    position=nfc(position), category=category, card_number=f"QN-{number:06d}",
                    email=email if category != "HĐ" else None, start_date=start, end_date=None)
                self.people.append(Person(employee, plan, self._station_of(plan.code),
                                          self._schedule_of(plan.code), _habits(self.rng, leader),
                                          leader))
                if index == 0:
                    self.heads[plan.code] = employee
        # A newcomer and someone who has left, so that start and end dates matter.
        newcomer = self.people[-5].employee
        newcomer.start_date = self.first_day + timedelta(days=11)
        leaver = self.people[-9].employee
        leaver.end_date = self.today - timedelta(days=8)
        self.session.add_all(p.employee for p in self.people)
        self.session.flush()
        for code, head in self.heads.items():
            self.units[code].head_id = head.id
        self.summary.employees = len(self.people)

    def _station_of(self, code: str) -> str:
        while code not in self.stations:
            code = self.plans[code].parent
        return code

    def _schedule_of(self, code: str) -> str | None:
        while code is not None:
            if self.plans[code].schedule:
                return self.plans[code].schedule
            code = self.plans[code].parent
        return None

    def head_of(self, person: Person) -> Employee:
        """Who approves this person's leave: their unit's head, or the head above them."""
        code = person.plan.code
        head = self.heads[code]
        while head is person.employee and self.plans[code].parent:
            code = self.plans[code].parent
            head = self.heads[code]
        return head

    # badges

    def issue_badges(self) -> None:
        try:
            from attendance import badges
        except ImportError:  # the badge service is not part of this installation yet
            return
        keyring = badges.Keyring()
        if not keyring.exists:
            keyring.init(self.now)
        active = [p.employee for p in self.people if p.employee.is_active_on(self.today)]
        issued_at = datetime.combine(self.first_day - timedelta(days=20), time(9), self.tz)
        result = badges.issue_badges(self.session, active, keyring, now=issued_at, actor="demo")
        for badge in result.issued:
            self.payloads[badge.employee_id] = (badge.serial, badges.badge_payload(badge, keyring))
        self.summary.badges = len(result.issued)

    # excuses

    def plan_excuses(self) -> list[tuple[Person, date, date, str, str, str, str]]:
        rng = self.rng
        working = self.working_days(extra_days=10)
        notes = {
            "leave": ["Nghỉ phép năm", "Nghỉ ốm", "Việc gia đình", "Nghỉ phép về quê"],
            "business_trip": ["Công tác tại Bộ Nội vụ, Hà Nội", "Tập huấn nghiệp vụ tại Đà Nẵng",
                              "Làm việc với UBND huyện Núi Thành", "Hội nghị tại TP. Hồ Chí Minh",
                              "Kiểm tra cơ sở tại huyện Phú Ninh"],
            "other": ["Khám sức khỏe định kỳ", "Đưa con đi khám bệnh", "Họp phụ huynh học sinh",
                      "Học lớp bồi dưỡng lý luận chính trị"],
        }
        excuses = []
        for person in self.people:
            roll = rng.random()
            if roll < 0.12:
                kind, part, length = "leave", "full", rng.randint(1, 3)
            elif roll < 0.19:
                kind, part, length = "business_trip", "full", rng.randint(2, 4)
            elif roll < 0.26:
                kind, part, length = rng.choice(["leave", "other"]), rng.choice(["morning", "afternoon"]), 1
            else:
                continue
            start_index = rng.randrange(0, len(working) - length)
            start, end = working[start_index], working[start_index + length - 1]
            status = "approved" if rng.random() > 0.03 else "pending"
            excuses.append((person, start, end, part, kind, rng.choice(notes[kind]), status))
        return excuses

    def add_excuses(self) -> None:
        planned = self.plan_excuses()
        records = []
        for person, start, end, part, kind, note, status in planned:
            requested = datetime.combine(start - timedelta(days=self.rng.randint(1, 5)),
                                         time(8, self.rng.randint(0, 59)), self.tz)
            requested = min(requested, self.now)
            excuse = Excuse(employee_id=person.employee.id, start_date=start, end_date=end,
                            part=part, kind=kind, note=note, requested_by=person.employee.code,
                            requested_at=requested, status=status)
            records.append((person, excuse, requested))
            if status == "approved":
                day = start
                while day <= end:
                    person.excused[day] = part if person.excused.get(day) != "full" else "full"
                    day += timedelta(days=1)
        self.session.add_all(e for _, e, _ in records)
        self.session.flush()
        with BulkChains(self.session) as chains:
            for person, excuse, requested in records:
                if excuse.status != "approved":
                    continue
                head = self.head_of(person)
                decided = min(requested + timedelta(hours=self.rng.randint(1, 6)), self.now)
                chains.append(ExcuseDecision(
                    excuse_id=excuse.id, decision="approved",
                    decided_by=f"{head.full_name} ({head.position})"[:80],
                    reason="Đồng ý", decided_at=decided), f"excuse:{person.plan.code}")
        self.summary.excuses = len(records)

    # scans

    def working_days(self, extra_days: int = 0) -> list[date]:
        schedule = self.config.schedule(None)
        last = self.today + timedelta(days=extra_days)
        days, day = [], self.first_day
        while day <= last:
            if self.calendar.is_working_day(day, schedule):
                days.append(day)
            day += timedelta(days=1)
        return days

    def add_scans(self) -> None:
        rng = self.rng
        chains = BulkChains(self.session)
        modes: set[str] = set()
        presence: dict[tuple[int, date], list[datetime]] = {}
        self.presence = presence
        days = 0
        day = self.first_day
        while day <= self.today:
            schedules = {name: self.config.schedule(name) for name in
                         {p.schedule_name for p in self.people}}
            any_working = False
            for person in self.people:
                schedule = schedules[person.schedule_name]
                employee = person.employee
                if not employee.is_active_on(day) or not self.calendar.is_working_day(day, schedule):
                    continue
                any_working = True
                modes.add(schedule.checkin_mode)
                excused = person.excused.get(day)
                if excused == "full":
                    continue
                times = self.day_times(person, schedule, day, excused)
                if times is None:
                    continue
                kind, instants = times
                instants = [t for t in instants if t <= self.cutoff]
                if not instants:
                    continue
                station = self.stations[person.station]
                if kind == "no_badge":
                    chains.append(NoBadgeRecord(
                        employee_id=employee.id, recorded_at=instants[0], source="guard",
                        place=station.name, recorded_by="Bảo vệ cơ quan",
                        note="Không đeo thẻ khi vào cơ quan", event_id=self.event_id(), void=False,
                    ), f"nobadge:{person.plan.code}")
                    self.summary.no_badge += 1
                    presence[(employee.id, day)] = instants[:1]
                    continue
                serial, payload = self.payloads.get(employee.id, (None, None))
                for instant in instants:
                    chains.append_row(Scan, dict(
                        source=f"station:{station.code}", station_id=station.id,
                        event_id=self.event_id(), employee_id=employee.id, badge_serial=serial,
                        status="accepted", reason=None, payload=payload, scanned_at=instant,
                        station_time=instant,
                        received_at=instant + timedelta(milliseconds=rng.randint(150, 2500)),
                        flags="",
                    ), f"scan:{station.code}")
                    station.last_seen_at = max(station.last_seen_at or instant, instant)
                    self.summary.scans += 1
                presence[(employee.id, day)] = instants
            if any_working:
                days += 1
                self.add_refused_attempts(day, chains)
            day += timedelta(days=1)
        chains.flush()
        self.summary.working_days = days
        self.summary.modes = tuple(sorted(modes))

    def event_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def add_refused_attempts(self, day: date, chains: BulkChains) -> None:
        """Now and then a forged or unknown code at a door: kept as a rejected attempt."""
        if self.rng.random() > 0.3:
            return
        station = self.rng.choice(list(self.stations.values()))
        instant = _at(day, time(7, 10), self.rng.uniform(0, 40), self.tz)
        if instant > self.cutoff:
            return
        chains.append_row(Scan, dict(
            source=f"station:{station.code}", station_id=station.id, event_id=self.event_id(),
            employee_id=None, badge_serial=None, status="rejected",
            reason=self.rng.choice(["bad_signature", "unknown_format"]),
            payload="TCC1|NV000000|XXXXXXXX|AAAA|" + "A" * 86, scanned_at=instant,
            station_time=instant, received_at=instant + timedelta(seconds=1), flags=""),
            f"scan:{station.code}")
        self.summary.scans += 1

    def day_times(self, person: Person, schedule: Schedule, day: date, excused: str | None
                  ) -> tuple[str, list[datetime]] | None:
        """What this person does on ``day``: ("badge", scan times) or ("no_badge", [arrival])."""
        rng, habits = self.rng, person.habits
        if rng.random() < habits.absence_rate:
            return None
        sessions = list(self.calendar.timetable(day, schedule).sessions)
        if excused == "morning":
            sessions = sessions[1:]
        elif excused == "afternoon":
            sessions = sessions[:-1]

        def arrival(start: datetime) -> datetime:
            roll = rng.random()
            if roll < habits.late_rate:
                return _at(day, start, rng.uniform(5.1, habits.late_max), self.tz)
            if roll < habits.late_rate + 0.06:  # just in time, within the grace period
                return _at(day, start, rng.uniform(0, 4.9), self.tz)
            return _at(day, start, -rng.triangular(1, 30, 12), self.tz)

        def departure(end: datetime) -> datetime:
            if rng.random() < habits.early_rate:
                return _at(day, end, -rng.uniform(10, 50), self.tz)
            return _at(day, end, rng.triangular(0, 30, 4), self.tz)

        if rng.random() < habits.no_badge_rate:
            return "no_badge", [arrival(sessions[0][0])]
        times: list[datetime] = []
        if schedule.checkin_mode == "session":
            for index, (start, end) in enumerate(sessions):
                if index > 0 and rng.random() < 0.02:
                    continue  # a missed session
                times.append(arrival(start))
                if rng.random() >= habits.forget_checkout_rate:
                    times.append(departure(end) if index == len(sessions) - 1
                                 else _at(day, end, rng.uniform(0, 12), self.tz))
        else:
            times.append(arrival(sessions[0][0]))
            if rng.random() >= habits.forget_checkout_rate:
                times.append(departure(sessions[-1][1]))
        if rng.random() < 0.03:  # scanned twice at the door: a repeat the rules ignore
            times.insert(1, times[0] + timedelta(seconds=rng.randint(3, 20)))
        return "badge", sorted(times)

    # spot checks

    def add_spot_checks(self) -> None:
        rng = self.rng
        days = [d for d in self.working_days() if d < self.today]
        candidates = [p for p in self.plans.values() if p.kind in ("dept", "commune", "center")]
        by_unit: dict[str, list[Person]] = {}
        for person in self.people:
            by_unit.setdefault(person.plan.code, []).append(person)
        checks = []
        for day in sorted(rng.sample(days, min(8, len(days)))):
            plan = rng.choice(candidates)
            schedule = self.config.schedule(self._schedule_of(plan.code))
            sessions = self.calendar.timetable(day, schedule).sessions
            morning = rng.random() < 0.6
            start, end = sessions[0] if morning else sessions[-1]
            checked_at = _at(day, start, rng.uniform(60, (end - start).total_seconds() / 60 - 45), self.tz)
            check = SpotCheck(unit_id=self.units[plan.code].id, checked_at=checked_at,
                              inspector="thanhtra",
                              note="Kiểm tra đột xuất việc chấp hành giờ giấc và đeo thẻ công chức")
            checks.append((check, plan, by_unit.get(plan.code, []), morning))
        self.session.add_all(c for c, *_ in checks)
        self.session.flush()
        with BulkChains(self.session) as chains:
            for check, plan, people, morning in checks:
                day = check.checked_at.astimezone(self.tz).date()
                for person in people:
                    times = self.presence.get((person.employee.id, day))
                    excused = person.excused.get(day)
                    if not times or times[0] > check.checked_at or excused == "full" or \
                            excused == ("morning" if morning else "afternoon"):
                        continue
                    roll = rng.random()
                    result = ("present_without_badge" if roll < 0.08 else
                              "absent_from_post" if roll < 0.14 else "present_with_badge")
                    note = {"present_without_badge": "Có mặt nhưng không đeo thẻ",
                            "absent_from_post": "Không có mặt tại phòng làm việc, không báo lý do",
                            }.get(result)
                    chains.append(SpotCheckFinding(
                        spot_check_id=check.id, employee_id=person.employee.id, result=result,
                        found_at=check.checked_at + timedelta(minutes=rng.randint(1, 25)),
                        note=note, supersedes_id=None), f"spot:{plan.code}")
                    self.summary.findings += 1
        self.summary.spot_checks = len(checks)

    # accounts

    def add_users(self) -> None:
        from argon2 import PasswordHasher

        hasher = PasswordHasher()
        password_hash = hasher.hash(DEMO_PASSWORD)  # one hash for all: the demo password is shared
        head = self.heads["SNV"]
        staff = next(p.employee for p in self.people
                     if p.plan.code.startswith("SNV-") and not p.leader and p.habits.late_rate >= 0.08)
        accounts = [
            ("admin", "admin", None, None, "Quản trị hệ thống"),
            ("thanhtra", "inspector", None, None, "Cán bộ kiểm tra (Đoàn kiểm tra công vụ)"),
            ("thutruong", "unit_head", self.units["SNV"].id, head.id,
             f"Thủ trưởng đơn vị: {head.full_name}, {head.position} Nội vụ"),
            ("nhanvien", "staff", staff.unit_id, staff.id,
             f"Công chức: {staff.full_name} ({staff.code}), {staff.position}"),
        ]
        for username, role, unit_id, employee_id, description in accounts:
            self.session.add(User(username=username, password_hash=password_hash, role=role,
                                  unit_id=unit_id, employee_id=employee_id, active=True,
                                  created_at=self.now, language="vi"))
            self.summary.accounts.append(DemoAccount(username, DEMO_PASSWORD, role, description))


def load_demo(session: Session, config: Config, *, seed: int = DEFAULT_SEED,
              today: date | None = None, now: datetime | None = None,
              badges: bool = True, weeks: int = WEEKS) -> DemoSummary:
    """Load the demo province into an empty database; never commits.

    ``today`` defaults to today in the config's timezone; ``now`` (the moment of loading,
    after which nothing is recorded) defaults to the clock.
    """
    now = now or datetime.now(timezone.utc)
    today = today or now.astimezone(config.tz).date()
    if not demo_needed(session):
        raise ValueError("the database already holds units")
    builder = _Builder(session, config, seed, today, now, weeks)
    builder.build_org()
    if badges:
        builder.issue_badges()
    builder.add_excuses()
    builder.add_scans()
    builder.add_spot_checks()
    builder.add_users()
    summary = builder.summary
    # The go-live: no one is expected before the demo's first day (no station recorded then).
    deployment.set_records_from(session, builder.first_day)
    details = {"today": today.isoformat(), "records_from": builder.first_day.isoformat(),
               "employees": summary.employees, "scans": summary.scans,
               "no_badge": summary.no_badge, "excuses": summary.excuses}
    record(session, actor="demo", action="demo.load", at=builder.now, target=f"seed={seed}",
           details=details)
    session.flush()
    return summary
