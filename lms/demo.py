"""``flask demo``: a realistic demo province, loaded idempotently.

The province "Sơn Hà" is fictional. Its tree follows the two-level local government in force since
July 2025 (province -> departments, organisations, press and communes), with units under some of them.
Names are generated from common Vietnamese family, middle and given names with a fixed seed, so every
run gives the same officers.
"""

from __future__ import annotations

import random
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms import db as lms_db
from lms import transaction
from lms.auth.passwords import hash_password
from lms.catalog.models import Course, Lesson, Module
from lms.certificates import services as certificates
from lms.certificates.models import Certificate
from lms.certificates.services import add_months
from lms.extensions import db
from lms.org import services
from lms.org.models import Agency, Duty, User
from lms.progress import services as progress
from lms.progress.models import CourseCompletion
from lms.quizzes import engine
from lms.quizzes import services as quizzes
from lms.quizzes.models import Attempt, Question, Quiz
from lms.reports import reminders
from lms.reports import services as reports
from lms.reports.models import Plan
from lms.reports.queries import local_today, plan_user_ids
from lms.reports.targets import Status, target_status

DEMO_PASSWORD = "hoc-tap-son-ha"  # noqa: S105 (public demo password, documented in README)

# (code, name_vi, name_en, kind, parent code)
AGENCIES: list[tuple[str, str, str, str, str | None]] = [
    ("SH", "Ủy ban nhân dân tỉnh Sơn Hà", "Son Ha Provincial People's Committee", "province", None),
    ("VP-UBND", "Văn phòng Ủy ban nhân dân tỉnh", "Office of the Provincial People's Committee", "department", "SH"),
    ("STP", "Sở Tư pháp", "Department of Justice", "department", "SH"),
    ("STP-PBGD", "Phòng Phổ biến, giáo dục pháp luật", "Legal Education Division", "department", "STP"),
    ("STP-VP", "Văn phòng Sở Tư pháp", "Office of the Department of Justice", "department", "STP"),
    ("SNGV", "Sở Ngoại vụ", "Department of Foreign Affairs", "department", "SH"),
    ("SNGV-TTDN", "Phòng Thông tin đối ngoại", "Foreign Information Division", "department", "SNGV"),
    ("SNV", "Sở Nội vụ", "Department of Home Affairs", "department", "SH"),
    ("SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", "Department of Culture, Sports and Tourism", "department", "SH"),
    ("SVHTTDL-BC", "Phòng Báo chí, Xuất bản", "Press and Publishing Division", "department", "SVHTTDL"),
    ("SKHCN", "Sở Khoa học và Công nghệ", "Department of Science and Technology", "department", "SH"),
    ("SGDDT", "Sở Giáo dục và Đào tạo", "Department of Education and Training", "department", "SH"),
    ("SYT", "Sở Y tế", "Department of Health", "department", "SH"),
    ("SDTTG", "Sở Dân tộc và Tôn giáo", "Department of Ethnic Minorities and Religions", "department", "SH"),
    ("CAT", "Công an tỉnh", "Provincial Police", "department", "SH"),
    ("CAT-ANM", "Phòng An ninh mạng", "Cybersecurity Division", "department", "CAT"),
    ("TTR", "Thanh tra tỉnh", "Provincial Inspectorate", "department", "SH"),
    ("MTTQ", "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", "Provincial Vietnam Fatherland Front Committee", "sociopolitical", "SH"),
    ("HLHPN", "Hội Liên hiệp Phụ nữ tỉnh", "Provincial Women's Union", "sociopolitical", "MTTQ"),
    ("TDOAN", "Tỉnh đoàn", "Provincial Youth Union", "sociopolitical", "MTTQ"),
    ("HND", "Hội Nông dân tỉnh", "Provincial Farmers' Union", "sociopolitical", "MTTQ"),
    ("HCCB", "Hội Cựu chiến binh tỉnh", "Provincial Veterans' Association", "sociopolitical", "MTTQ"),
    ("LDLD", "Liên đoàn Lao động tỉnh", "Provincial Labour Federation", "sociopolitical", "MTTQ"),
    ("BAO-SH", "Báo Sơn Hà", "Son Ha Newspaper", "press", "SH"),
    ("DAI-SH", "Đài Phát thanh và Truyền hình Sơn Hà", "Son Ha Radio and Television", "press", "SH"),
    ("DAI-SH-TS", "Ban Thời sự", "News Desk", "press", "DAI-SH"),
    ("P-ANSON", "Phường An Sơn", "An Son Ward", "commune", "SH"),
    ("P-ANSON-VH", "Phòng Văn hóa - Xã hội phường An Sơn", "An Son Culture and Society Office", "commune", "P-ANSON"),
    ("P-HATHANH", "Phường Hà Thanh", "Ha Thanh Ward", "commune", "SH"),
    ("P-BENDO", "Phường Bến Đò", "Ben Do Ward", "commune", "SH"),
    ("X-TRASON", "Xã Trà Sơn", "Tra Son Commune", "commune", "SH"),
    ("X-AVUONG", "Xã A Vương", "A Vuong Commune", "commune", "SH"),
    ("X-AVUONG-VH", "Phòng Văn hóa - Xã hội xã A Vương", "A Vuong Culture and Society Office", "commune", "X-AVUONG"),
    ("X-DAKPRING", "Xã Đắk Pring", "Dak Pring Commune", "commune", "SH"),
    ("X-LANGDOAN", "Xã Làng Đoàn", "Lang Doan Commune", "commune", "SH"),
    ("X-SONGKON", "Xã Sông Kôn", "Song Kon Commune", "commune", "SH"),
    ("X-PHUOCTHANH", "Xã Phước Thành", "Phuoc Thanh Commune", "commune", "SH"),
    ("X-TAYGIANG", "Xã Tây Giang", "Tay Giang Commune", "commune", "SH"),
    ("X-HIENLUONG", "Xã Hiền Lương", "Hien Luong Commune", "commune", "SH"),
    ("X-BINHMINH", "Xã Bình Minh", "Binh Minh Commune", "commune", "SH"),
    ("X-BINHMINH-VP", "Văn phòng HĐND và UBND xã Bình Minh", "Binh Minh Commune Office", "commune", "X-BINHMINH"),
    ("X-CUALO", "Xã Cửa Lở", "Cua Lo Commune", "commune", "SH"),
]

MOUNTAIN = {"X-AVUONG", "X-AVUONG-VH", "X-DAKPRING", "X-TAYGIANG", "X-SONGKON", "X-LANGDOAN"}

FAMILY = (["Nguyễn"] * 30 + ["Trần"] * 11 + ["Lê"] * 9 + ["Phạm"] * 7 + ["Huỳnh"] * 5 + ["Hoàng"] * 3
          + ["Phan"] * 4 + ["Võ"] * 5 + ["Vũ"] * 2 + ["Đặng"] * 2 + ["Bùi"] * 2 + ["Đỗ"] * 2
          + ["Hồ"] * 3 + ["Ngô"] * 2 + ["Dương"] + ["Đoàn"] + ["Trương"] * 2 + ["Lương"] + ["Đinh"])
MIDDLE_M = ["Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công", "Ngọc", "Xuân", "Anh", "Tấn", "Đình"]
MIDDLE_F = ["Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Hoài", "Mỹ", "Kim", "Bích", "Phương", "Diệu"]
GIVEN_M = ["An", "Bảo", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hùng", "Huy", "Khánh", "Long", "Lực",
           "Nam", "Nghĩa", "Phong", "Phúc", "Quang", "Sơn", "Tài", "Thắng", "Thịnh", "Toàn", "Trung",
           "Tuấn", "Việt", "Vinh"]
GIVEN_F = ["Anh", "Châu", "Diễm", "Dung", "Duyên", "Giang", "Hà", "Hằng", "Hạnh", "Hoa", "Hương",
           "Lan", "Liên", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Nhung", "Oanh", "Phượng",
           "Quyên", "Thảo", "Thủy", "Trang", "Tuyết", "Uyên", "Vân", "Yến"]
# Names common among Katu, Xơ Đăng and Giẻ Triêng officers of the mountain communes.
MINORITY = ["Alăng Thị Mai", "Bhling Văn Dũng", "Zơrâm Thị Bích", "Hồ Văn Niu", "A Lăng Thị Tuyết",
            "Riah Thị Lệ", "Clâu Văn Thanh", "Blúp Thị Hương", "Y Thị Hoa", "A Viết Sơn", "Đinh Văn Rô",
            "Hiên Thị Nga", "Pơloong Văn Hùng", "Coor Thị Dung"]

TITLES = ["Chuyên viên", "Chuyên viên", "Chuyên viên chính", "Phó Trưởng phòng", "Trưởng phòng",
          "Cán bộ", "Công chức", "Phóng viên", "Biên tập viên"]

DEMO_ACCOUNTS = [
    # username, full name, agency, roles, duties, hr scope codes (None: all)
    ("admin", "Trần Quốc Bảo", "VP-UBND", {"officer", "admin"}, set(), []),
    ("hr", "Lê Thị Thu Hà", "SNV", {"officer", "hr"}, set(), None),
    ("hr.xaavuong", "Alăng Văn Hiếu", "X-AVUONG", {"officer", "hr"}, set(), ["X-AVUONG"]),
    ("trainer", "Phạm Minh Khoa", "STP-PBGD", {"officer", "trainer"}, {"human_rights"}, []),
    ("officer", "Nguyễn Thị Bích Đào", "STP", {"officer"}, {"spokesperson", "human_rights"}, []),
]


def _ascii(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def demo_username(full_name: str) -> str:
    """Given name + initials of the others, without diacritics: "Nguyễn Thị Bích Đào" -> "daontb"."""
    parts = _ascii(full_name).lower().split()
    return parts[-1] + "".join(p[0] for p in parts[:-1])


def load_demo(officers: int = 400, seed: int = 2024) -> dict[str, int]:
    """Create what is missing of the demo province; returns counts of what was added."""
    added = {"agencies": 0, "officers": 0, "accounts": 0}
    services.ensure_builtin_duties()
    by_code = {a.code: a for a in db.session.scalars(select(Agency))}
    for code, vi, en, kind, parent in AGENCIES:
        if code in by_code:
            continue
        by_code[code] = services.create_agency(
            code=code, name_vi=vi, name_en=en, kind=kind, parent=by_code[parent] if parent else None
        )
        added["agencies"] += 1
    duties = {d.code: d for d in db.session.scalars(select(Duty))}
    profile = current_app.config["PASSWORD_HASH_PROFILE"]
    demo_hash = hash_password(DEMO_PASSWORD, profile)
    taken = set(db.session.scalars(select(func.lower(User.username))))

    for username, name, agency_code, roles, duty_codes, scope in DEMO_ACCOUNTS:
        if username in taken:
            continue
        user = services.create_user(services.UserData(
            username=username, full_name=name, agency=by_code[agency_code], roles=set(roles),
            duty_codes=set(duty_codes), hr_all_agencies=scope is None,
            hr_agency_ids={by_code[c].id for c in (scope or [])},
            job_title="Chuyên viên", email=f"{username}@sonha.example",
        ))
        user.password_hash = demo_hash
        taken.add(username)
        added["accounts"] += 1

    existing = db.session.scalar(select(func.count()).select_from(User)) or 0
    wanted = officers + len(DEMO_ACCOUNTS)
    rng = random.Random(seed)
    codes = [a[0] for a in AGENCIES if a[0] != "SH"]
    for index in range(max(0, wanted - existing)):
        agency_code = codes[(existing + index) % len(codes)]
        if agency_code in MOUNTAIN and rng.random() < 0.45:
            name = rng.choice(MINORITY)
        elif rng.random() < 0.5:
            name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_F)} {rng.choice(GIVEN_F)}"
        else:
            name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_M)} {rng.choice(GIVEN_M)}"
        base = demo_username(name)
        username, n = base, 1
        while username in taken:
            n += 1
            username = f"{base}{n}"
        taken.add(username)
        agency = by_code[agency_code]
        user = User(username=username, full_name=name, agency=agency, job_title=rng.choice(TITLES),
                    email=f"{username}@sonha.example", password_hash=demo_hash)
        user.role_rows = []
        from lms.org.models import UserRole

        user.role_rows.append(UserRole(role="officer"))
        roll = rng.random()
        if roll < 0.12:
            user.duties = [duties["spokesperson"]]
        elif roll < 0.35:
            user.duties = [duties["human_rights"]]
        elif roll < 0.45:
            user.duties = [duties["foreign_info"]]
        if agency.kind == "press" and rng.random() < 0.7:
            user.duties = [*user.duties, duties["press"]]
        db.session.add(user)
        added["officers"] += 1
    db.session.flush()
    return added


# Activity: months of training replayed through the services ---------------------------------------

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

PLAN_COURSES = ("hr-foundations", "misinformation-response", "spokesperson-press", "digital-minority-comms",
                "katu-spokesperson-glossary")
PLAN_DUTIES = ("spokesperson", "human_rights", "foreign_info", "press")
PLAN_NAME = "Kế hoạch bồi dưỡng về thông tin, tuyên truyền quyền con người năm {year}"
PLAN_DESCRIPTION = (
    "Thực hiện Đề án truyền thông về quyền con người trên địa bàn tỉnh: bồi dưỡng cán bộ, công chức "
    "làm công tác quyền con người, thông tin đối ngoại, người phát ngôn và phóng viên các cơ quan báo chí "
    "của tỉnh."
)
PLAN_DUE = date(2026, 12, 15)
EARLIER_PLAN_NAME = "Kế hoạch bồi dưỡng kỹ năng kiểm chứng và phản bác thông tin sai lệch năm {year}"
EARLIER_PLAN_COURSE = "misinformation-response"
EARLIER_PLAN_DUTIES = ("spokesperson", "press")
# Direct units of the province that fall behind (the first three with officers in the target group)
# and that are at risk; every other unit is on track.
BEHIND = ("X-DAKPRING", "X-SONGKON", "SYT", "X-LANGDOAN", "X-CUALO", "SKHCN", "TTR")
AT_RISK = ("X-AVUONG", "X-TAYGIANG", "P-BENDO", "X-PHUOCTHANH", "SGDDT")
# The province asked the units behind to finish the first courses by an earlier date.
EARLY_COURSES = ("hr-foundations", "misinformation-response")
REVOKE_REASON = "Bài kiểm tra cuối khóa do người khác làm thay (theo biên bản kiểm tra của Sở Nội vụ)."

WRONG_TEXT = {"vi": "chưa rõ", "en": "not sure"}
ESSAYS = {
    "vi": [
        "Trước hết tôi kiểm tra nguồn gốc thông tin, đối chiếu với văn bản chính thức và báo cáo lãnh "
        "đạo. Sau đó đề xuất một thông cáo ngắn, có số liệu và dẫn nguồn, không nhắc lại nguyên văn nội "
        "dung sai để tránh khuếch đại.",
        "Cần phân biệt thông tin sai lệch do hiểu nhầm với thông tin xuyên tạc có chủ đích. Với trường "
        "hợp thứ hai, đơn vị phối hợp với cơ quan chức năng, đồng thời cung cấp thông tin chính thức kịp "
        "thời trên cổng thông tin và trang của Ủy ban nhân dân xã.",
        "Người phát ngôn trả lời đúng phạm vi được giao, dùng ngôn ngữ giản dị, nêu rõ điều đã xác minh "
        "và điều đang làm rõ; hẹn thời điểm cung cấp thông tin tiếp theo và giữ đúng hẹn.",
        "Sản phẩm truyền thông cho đồng bào cần song ngữ, ngắn gọn, có hình ảnh minh họa; phối hợp với "
        "già làng, người có uy tín để đọc trên loa truyền thanh và trong các buổi họp thôn.",
        "Hiến pháp năm 2013 quy định quyền con người chỉ có thể bị hạn chế theo quy định của luật trong "
        "trường hợp cần thiết vì lý do quốc phòng, an ninh quốc gia, trật tự, an toàn xã hội, đạo đức xã "
        "hội, sức khỏe của cộng đồng.",
    ],
    "en": [
        "First I would check where the claim comes from and compare it with the official record, then "
        "brief my superior and propose a short statement with sourced figures, without repeating the "
        "false wording.",
        "The answer should separate honest mistakes from deliberate distortion, give the verified facts "
        "in plain language and say when more information will follow.",
    ],
}
GRADER_COMMENTS = [
    "Trình bày đúng các bước, lập luận rõ ràng.",
    "Nêu đúng ý chính; cần dẫn nguồn cụ thể hơn.",
    "Đạt yêu cầu; phần đề xuất còn chung chung.",
    "Bài viết tốt, có ví dụ sát thực tế địa phương.",
    "Thiếu bước xác minh nguồn trước khi phản hồi.",
]


def _moment(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """A local (UTC+7) time on ``day``, as the aware UTC datetime services store."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL_TZ).astimezone(UTC)


class _Clock:
    """The time every service reads while the demo replays past activity.

    Services take the time from ``lms.db.utcnow`` (directly or as column defaults), which calls
    ``datetime.now``; while :meth:`running`, that name in ``lms.db`` answers the moment set with
    :meth:`at`, so rows, audit entries and certificates carry the dates the story gives them.
    """

    def __init__(self) -> None:
        self.moment: datetime | None = None

    def at(self, moment: datetime) -> datetime:
        self.moment = moment
        return moment

    @contextmanager
    def running(self) -> Iterator[_Clock]:
        clock = self

        class SimulatedDatetime(datetime):
            @classmethod
            def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
                if clock.moment is None:
                    return datetime.now(tz)
                return clock.moment.astimezone(tz) if tz else clock.moment.replace(tzinfo=None)

        real = lms_db.datetime
        lms_db.datetime = SimulatedDatetime  # type: ignore[misc]
        try:
            yield self
        finally:
            lms_db.datetime = real  # type: ignore[misc]
            self.moment = None


@dataclass
class _CourseMap:
    """What an officer goes through in one course: lessons and module quizzes in order, the final test."""

    course: Course
    steps: list[tuple[str, Any]]  # ("lesson", Lesson) or ("quiz", Quiz), in the order of the course
    final: Quiz | None
    # The course's question bank, held here so that the session keeps the rows: every attempt reads
    # the bank again and would otherwise build each row (and parse its JSON) anew.
    bank: list[Question] = field(default_factory=list)


@dataclass
class _Pair:
    user: User
    course_map: _CourseMap
    index: int  # position of the course in the plan
    state: str = "todo"  # done, progress, pending, todo


@dataclass
class ActivitySummary:
    plans: int = 0
    completions: int = 0
    attempts: int = 0
    certificates: int = 0
    notices: int = 0
    behind: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"demo activity: {self.plans} plans, {self.completions} course completions, "
            f"{self.attempts} quiz attempts, {self.certificates} certificates, {self.notices} notices; "
            f"behind: {', '.join(self.behind)}; {self.seconds:.1f} s"
        )


class _Replay:
    """Plays officers' and trainers' actions at given moments through the domain services."""

    def __init__(self, clock: _Clock, rng: random.Random, grader: User, stand_in: User) -> None:
        self.clock, self.rng = clock, rng
        self.grader, self.stand_in = grader, stand_in  # stand_in grades the grader's own essays
        self.hard: set[tuple[int, str]] = set()
        self.hard_seen: dict[str, int] = defaultdict(int)
        self.attempts = 0

    # Answers ------------------------------------------------------------------------------------

    def _answer(self, slot: dict[str, Any], right: bool, lang: str, hard: bool = False) -> list[str]:
        """Form values answering one slot right or wrong, read from the attempt's own snapshot."""
        q, order = slot["question"], slot["order"]
        kind = q["type"]
        if kind in ("single", "multi"):
            answers = q["answers"]
            display = order if order is not None else list(range(len(answers)))
            good = [i for i, a in enumerate(answers) if float(a["weight"]) > 0]
            bad = [i for i, a in enumerate(answers) if float(a["weight"]) <= 0]
            if right or not bad:
                chosen = good if kind == "multi" else [max(good, key=lambda i: float(answers[i]["weight"]))]
            else:
                # Everyone who misses a hard question falls for its first distractor.
                chosen = [bad[0] if hard else self.rng.choice(bad)]
            return [str(display.index(i)) for i in chosen]
        if kind == "truefalse":
            truth = next(a["text"] for a in q["answers"] if float(a["weight"]) > 0)
            return [truth if right else ("false" if truth == "true" else "true")]
        if kind == "short":
            accepted = next(a["text"] for a in q["answers"] if float(a["weight"]) > 0)
            return [accepted.replace("*", "") if right else WRONG_TEXT.get(lang, WRONG_TEXT["vi"])]
        if kind == "numerical":
            answer = q["numerical"][0]
            value = answer.get("value")
            if value is None:
                value = (float(answer["minimum"]) + float(answer["maximum"])) / 2
            return [f"{float(value) + (0 if right else 1000):g}"]
        if kind == "matching":
            options: list[str] = []
            for pair in q["pairs"]:
                if pair["right"] not in options:
                    options.append(pair["right"])
            display = order if order is not None else list(range(len(options)))
            items = [i for i, pair in enumerate(q["pairs"]) if pair["left"]]
            wanted = [q["pairs"][i]["right"] for i in items]
            if not right:
                wanted = wanted[1:] + wanted[:1]
            return [f"{i}:{display.index(options.index(text))}" for i, text in zip(items, wanted, strict=True)]
        if kind == "ordering":
            # Items are stored in the right order, so an item's index is its right place (from 0);
            # a wrong answer reverses the order, which scores nothing.
            size = len(q["answers"])
            shown = order if order is not None else list(range(size))
            return [f"{pos}:{item + 1 if right else size - item}" for pos, item in enumerate(shown)]
        if kind == "essay":
            texts = ESSAYS.get(lang, ESSAYS["vi"])
            return [self.rng.choice(texts)]
        return []

    def _plan_answers(self, attempt: Attempt, passing: bool, ability: float) -> tuple[dict[int, list[str]], dict[int, float]]:
        """Form values for every slot, and the essay grades, giving a passing or failing score."""
        slots = {int(s["slot"]): s for s in attempt.slots}
        hard = {n for n, s in slots.items() if (attempt.quiz.course_id, s["name"]) in self.hard}
        right: dict[int, bool] = {}
        essays: dict[int, float] = {}
        for number, slot in slots.items():
            if slot["question"]["type"] == "essay":
                essays[number] = self.rng.choice((0.6, 0.7, 0.75, 0.8, 0.9, 1.0) if passing else (0.3, 0.4, 0.5))
            else:
                if number in hard:  # one officer in ten gets it right
                    self.hard_seen[slot["name"]] += 1
                    right[number] = self.hard_seen[slot["name"]] % 10 == 0
                else:
                    right[number] = self.rng.random() < ability
        values = {n: self._answer(slots[n], right.get(n, True), attempt.lang, n in hard) for n in slots}
        # Move the score across the pass mark when chance put it on the wrong side: easy questions
        # first, so the hard ones stay hard.
        for _round in range(len(slots) + 1):
            result = engine.grade_slots(attempt.slots, quizzes.parse_values(attempt, values), essays)
            score = result.score or 0.0
            if passing and score < attempt.pass_mark + 2:
                wrong = [n for n, ok in right.items() if not ok]
                flip = [n for n in wrong if n not in hard] or wrong
                if not flip:
                    essays = dict.fromkeys(essays, 1.0)
                    continue
            elif not passing and score >= attempt.pass_mark:
                flip = [n for n, ok in right.items() if ok]
                if not flip:
                    essays = dict.fromkeys(essays, 0.0)
                    continue
            else:
                break
            number = self.rng.choice(flip)
            right[number] = passing
            values[number] = self._answer(slots[number], passing, attempt.lang, number in hard)
        return values, essays

    # Actions ------------------------------------------------------------------------------------

    def attempt(self, user: User, quiz: Quiz, lang: str, start: datetime, *, passing: bool, ability: float,
                grade_at: datetime | None) -> Attempt:
        """Start, answer and submit one attempt; a trainer grades its essays at ``grade_at`` (None: later)."""
        self.clock.at(start)
        attempt = quizzes.start_attempt(user, quiz, lang, now=start)
        values, essays = self._plan_answers(attempt, passing, ability)
        limit = quiz.time_limit_minutes or 30
        submitted = self.clock.at(start + timedelta(minutes=self.rng.uniform(0.25, 0.8) * limit))
        quizzes.submit_attempt(attempt, values, now=submitted)
        self.attempts += 1
        if essays and grade_at is not None:
            self.grade(attempt, essays, grade_at)
        return attempt

    def grade(self, attempt: Attempt, essays: dict[int, float], when: datetime) -> None:
        """The trainer grades every essay of ``attempt`` (the last grade completes the attempt)."""
        waiting = [a for a in attempt.answers if a.needs_manual and a.manual_fraction is None]
        self.grade_some(attempt, waiting, when, essays)

    def grade_some(self, attempt: Attempt, answers: list[Any], when: datetime,
                   essays: dict[int, float] | None = None) -> None:
        grader = self.stand_in if attempt.user_id == self.grader.id else self.grader
        self.clock.at(when)
        for answer in answers:
            fraction = (essays or {}).get(answer.slot, self.rng.choice((0.7, 0.8, 0.9)))
            quizzes.grade_answer(answer, fraction, self.rng.choice(GRADER_COMMENTS), grader=grader, now=when)

    def _spread(self, steps: list[Any], start: datetime, end: datetime) -> list[tuple[Any, datetime]]:
        if not steps:
            return []
        gap = (end - start) / len(steps)
        return [(step, start + gap * i + timedelta(minutes=self.rng.uniform(0, 20))) for i, step in enumerate(steps)]

    def _steps(self, user: User, cmap: _CourseMap, lang: str, timed: list[tuple[Any, datetime]],
               ability: float) -> None:
        for (kind, item), when in timed:
            self.clock.at(when)
            if kind == "lesson":
                progress.complete_lesson(user, item, cmap.course, lang)
            else:
                if self.rng.random() < 0.05 and (item.max_attempts or 3) > 1:
                    self.attempt(user, item, lang, when, passing=False, ability=ability, grade_at=when)
                    when += timedelta(minutes=self.rng.uniform(20, 90))
                self.attempt(user, item, lang, when, passing=True, ability=ability, grade_at=when)

    def complete(self, user: User, cmap: _CourseMap, lang: str, start: datetime, end: datetime,
                 ability: float) -> None:
        """Everything from enrolment to the trainer's grade that completes the course at ``end``."""
        self.clock.at(start)
        progress.enrol(user, cmap.course, source="assignment" if progress.is_assigned(user, cmap.course) else "self")
        final_at = end - timedelta(hours=self.rng.uniform(3, 40))
        retake = cmap.final is not None and self.rng.random() < 0.08 and (cmap.final.max_attempts or 3) > 1
        first_final = final_at - timedelta(days=self.rng.uniform(1.2, 3)) if retake else final_at
        self._steps(user, cmap, lang, self._spread(cmap.steps, start, first_final - timedelta(hours=2)), ability)
        if cmap.final is None:
            return
        if retake:
            self.attempt(user, cmap.final, lang, first_final, passing=False, ability=ability,
                         grade_at=first_final + timedelta(hours=6))
        self.attempt(user, cmap.final, lang, final_at, passing=True, ability=ability, grade_at=end)

    def begin(self, user: User, cmap: _CourseMap, lang: str, start: datetime, last_seen: datetime,
              ability: float, *, pending_essay: bool = False, done_steps: int | None = None) -> None:
        """Part of a course: some lessons and module quizzes, then the lesson to resume at; or, with
        ``pending_essay``, everything up to a final test whose essay waits for a trainer."""
        self.clock.at(start)
        enrollment = progress.enrol(
            user, cmap.course, source="assignment" if progress.is_assigned(user, cmap.course) else "self")
        if pending_essay and cmap.final is not None:
            self._steps(user, cmap, lang, self._spread(cmap.steps, start, last_seen - timedelta(hours=3)), ability)
            attempt = self.attempt(user, cmap.final, lang, last_seen, passing=True, ability=ability, grade_at=None)
            # A test with several essays: the trainer has graded all but the last one.
            waiting = [a for a in attempt.answers if a.needs_manual and a.manual_fraction is None]
            if len(waiting) > 1:
                self.grade_some(attempt, waiting[:-1], last_seen + timedelta(hours=2))
            return
        count = done_steps if done_steps is not None else self.rng.randint(1, max(1, len(cmap.steps) - 2))
        self._steps(user, cmap, lang, self._spread(cmap.steps[:count], start, last_seen), ability)
        following = next((item for kind, item in cmap.steps[count:] if kind == "lesson"), None)
        if following is not None:
            self.clock.at(last_seen + timedelta(minutes=5))
            progress.note_lesson_opened(enrollment, following)


def _course_maps(keys: tuple[str, ...]) -> dict[str, _CourseMap] | None:
    """The published courses of ``keys`` with their steps, or None when one is missing."""
    courses = {c.key: c for c in db.session.scalars(
        select(Course).where(Course.key.in_(keys), Course.published.is_(True), Course.archived_at.is_(None)))}
    if set(courses) != set(keys):
        return None
    maps = {}
    for key, course in courses.items():
        quiz_rows = {q.key: q for q in db.session.scalars(
            select(Quiz).where(Quiz.course_id == course.id, Quiz.archived_at.is_(None)))}
        steps: list[tuple[str, Any]] = []
        modules = db.session.scalars(
            select(Module).where(Module.course_id == course.id, Module.archived.is_(False)).order_by(Module.position))
        for module in modules:
            lessons = db.session.scalars(
                select(Lesson).where(Lesson.module_id == module.id, Lesson.archived_at.is_(None))
                .order_by(Lesson.position))
            steps += [("lesson", lesson) for lesson in lessons]
            if module.quiz_key and module.quiz_key in quiz_rows and not quiz_rows[module.quiz_key].final:
                steps.append(("quiz", quiz_rows[module.quiz_key]))
        final_key = course.final_quiz_key
        bank = list(db.session.scalars(select(Question).where(Question.course_id == course.id)))
        maps[key] = _CourseMap(course, steps, quiz_rows.get(final_key) if final_key else None, bank)
    return maps


def _top_unit(user: User, province: Agency) -> int | None:
    """The id of the province's direct unit an officer works in (itself or one of its sub-units)."""
    parts = [int(p) for p in user.agency.path.strip("/").split("/") if p]
    if province.id not in parts:
        return None
    below = parts[parts.index(province.id) + 1:]
    return below[0] if below else None


def _done_count(n: int, done: int, open_: int, wanted: Status, start: date, due: date, today: date,
                rng: random.Random) -> int:
    """How many of a unit's ``n`` pairs to complete so that the unit shows ``wanted`` today."""
    lo, hi = done, n - open_

    def status(k: int) -> Status:
        return target_status(k / n, 1.0, None, start=start, due=due, today=today)

    fitting = [k for k in range(lo, hi + 1) if status(k) == wanted]
    if not fitting:
        return hi if wanted == Status.on_track else lo
    if wanted == Status.on_track:
        return fitting[-1] if len(fitting) == 1 or rng.random() < 0.6 else fitting[-2]
    if wanted == Status.at_risk:
        return fitting[len(fitting) // 2]
    return min(fitting, key=lambda k: abs(k - 0.2 * n))


def _plan_users(plan: Plan) -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.id.in_(plan_user_ids(plan.id))).options(selectinload(User.agency))
        .order_by(User.id)))


def _when(start: datetime, end: datetime, rng: random.Random, *, a: float = 2.2, b: float = 1.3) -> datetime:
    """A moment between ``start`` and ``end``, more often towards the end (work piles up before deadlines)."""
    return start + (end - start) * rng.betavariate(a, b)


def _new_plan(name: str, year: int, due: date, description: str, courses: list[Course], duties: list[Duty],
              targets: list[tuple[str, float | None, float | None, str]], actor: User) -> Plan:
    plan = reports.create_plan(reports.PlanData(name=name, year=year, description=description, due_date=due),
                               actor=actor)
    for course in courses:
        reports.add_course(plan, course, actor=actor)
    for duty in duties:
        reports.add_member(plan, kind="duty", duty=duty, actor=actor)
    for kind, minimum, maximum, note in targets:
        reports.set_target(plan, kind, minimum, maximum, note, actor=actor)
    return plan


def load_activity(seed: int = 2024, *, today: date | None = None,
                  progress_step: Callable[[int, int], None] | None = None) -> ActivitySummary | None:
    """Replay about a year of training in the demo province; None when the courses are not synced
    yet or a plan already exists (running it again adds nothing).

    The demo accounts' courses, the essay left waiting, plans, assignments, the revocation and the
    reminders go through the services pages use, under a simulated clock (:class:`_Clock`). Every
    other officer's courses are written in bulk by ``lms.generator`` (the services cost about 220 SQL
    statements per completed course; the year took about 4 minutes that way, a few seconds in bulk),
    with the same rows the services derive: attempts drawn from the bank and graded by the engine,
    quiz results equal to what the attempts add up to (a regrade changes nothing), completions where
    the course's rule is met, and their certificates. So dashboards, exports, API, item analysis and
    certificates all agree (``tests/test_demo.py``).

    The story, with dates relative to ``today`` (the province's calendar): an officer took the
    misinformation course as a pilot two years ago (her certificate expires in a few days); a closed
    plan for last year trained spokespersons and journalists in it; this year's plan (due 15/12/2026,
    or three weeks ahead when that has passed) targets every officer with a human-rights,
    foreign-information, spokesperson or press duty. Most units are on track, three are at risk and
    three are clearly behind, with the first two courses overdue after the province asked them to
    finish those by an earlier date. Some officers are mid-course, one essay waits in the trainer's
    queue, a certificate was revoked, and the daily reminder job sent its notices.
    """
    if db.session.scalar(select(func.count()).select_from(Plan)):
        return None
    maps = _course_maps(PLAN_COURSES)
    if maps is None:
        return None
    began = time.monotonic()
    rng = random.Random(seed)
    today = today or local_today()
    accounts = {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_([a[0] for a in DEMO_ACCOUNTS])))}
    hr, admin, trainer, officer = accounts["hr"], accounts["admin"], accounts["trainer"], accounts["officer"]
    province = db.session.scalars(select(Agency).where(Agency.code == "SH")).one()
    duties = {d.code: d for d in db.session.scalars(select(Duty))}
    units = {a.code: a for a in db.session.scalars(select(Agency).where(Agency.parent_id == province.id))}
    summary = ActivitySummary()
    clock = _Clock()
    # The replay has its own random stream: how many draws answering takes depends on the questions
    # each attempt drew, and the story (who finishes what, when) must not depend on that.
    replay = _Replay(clock, random.Random(seed + 1), trainer, admin)
    # Two questions of the foundations course that most officers miss (the same distractor each time).
    foundations = maps["hr-foundations"].course
    for category in ("m1", "m2"):
        names = sorted(db.session.scalars(
            select(Question.name).where(Question.course_id == foundations.id, Question.lang == "vi",
                                        Question.category == category, Question.qtype == "single",
                                        Question.archived_at.is_(None))))
        if names:
            replay.hard.add((foundations.id, rng.choice(names)))

    due = max(PLAN_DUE, today + timedelta(days=19))
    year = due.year
    activated_on = due - timedelta(days=288)
    now = _moment(today, 7, 30)
    ability = {}

    def ability_of(user: User) -> float:
        if user.id not in ability:
            ability[user.id] = rng.uniform(0.55, 0.92)
        return ability[user.id]

    def lang_of(user: User, cmap: _CourseMap) -> str:
        if "en" in (cmap.course.languages or []) and any(d.code == "foreign_info" for d in user.duties):
            return "en" if rng.random() < 0.4 else "vi"
        return "vi"

    # Ordinary officers' courses are written in bulk by the generator's writer (the same rows the
    # services would write: attempts drawn and graded by the engine, results equal to what the attempts
    # add up to, completions, certificates); the demo accounts and the essay left waiting go through
    # the services. Jobs are collected and written between service calls, never during them.
    from lms.generator import BulkWriter, _Activity, _course_plans, _naive
    from lms.progress.services import refresh_pairs

    plans = _course_plans(PLAN_COURSES, random.Random(seed + 2), replay.hard)
    bulk_rng = random.Random(seed + 3)
    agency_names = {a.id: (a.name_vi, a.name_en) for a in db.session.execute(
        select(Agency.id, Agency.name_vi, Agency.name_en))}
    jobs: list[tuple[User, str, str, datetime, datetime, bool]] = []

    def write_jobs() -> None:
        if not jobs:
            return
        db.session.flush()
        writer = BulkWriter()
        activity = _Activity(writer, bulk_rng, trainer.id)
        for user, key, lang, start, end, complete in jobs:
            activity.course(user.id, user.agency_id, plans[key], lang, _naive(start), _naive(end),
                            complete=complete, holder=user.full_name, agency_name=agency_names[user.agency_id])
        summary.attempts += len(activity.attempts)
        activity.flush()
        refresh_pairs({user.id for user, *_rest in jobs})
        writer.finish()
        jobs.clear()

    with clock.running():
        # A pilot two years ago: the officer's certificate (valid 24 months) expires in a few days.
        pilot_end = _moment(add_months(today, -24) + timedelta(days=5), 15, 10)
        replay.complete(officer, maps["misinformation-response"], "vi", pilot_end - timedelta(days=12), pilot_end,
                        0.9)

        # Last year's plan, now closed.
        start25 = _moment(date(year - 1, 3, 16), 8, 30)
        clock.at(start25 - timedelta(days=4))
        earlier = _new_plan(EARLIER_PLAN_NAME.format(year=year - 1), year - 1, date(year - 1, 12, 15),
                            "Bồi dưỡng người phát ngôn và phóng viên về kiểm chứng, phản bác thông tin sai lệch.",
                            [maps[EARLIER_PLAN_COURSE].course], [duties[c] for c in EARLIER_PLAN_DUTIES],
                            [("officers_completed", 1.0, None, "")], hr)
        clock.at(start25)
        reports.activate_plan(earlier, actor=hr)
        behind_ids = {units[c].id for c in BEHIND if c in units}
        for user in _plan_users(earlier):
            if user.id == officer.id or rng.random() > (0.25 if _top_unit(user, province) in behind_ids else 0.88):
                continue
            end = _when(start25 + timedelta(days=14), _moment(date(year - 1, 12, 20), 16), rng)
            jobs.append((user, EARLIER_PLAN_COURSE, lang_of(user, maps[EARLIER_PLAN_COURSE]),
                         end - timedelta(days=rng.uniform(3, 20)), end, True))
        write_jobs()
        clock.at(_moment(date(year, 1, 6), 10))
        reports.close_plan(earlier, actor=hr)

        # This year's plan.
        clock.at(_moment(activated_on - timedelta(days=9), 14))
        plan = _new_plan(
            PLAN_NAME.format(year=year), year, due, PLAN_DESCRIPTION,
            [maps[k].course for k in PLAN_COURSES], [duties[c] for c in PLAN_DUTIES],
            [("officers_completed", 1.0, None, "100% cán bộ, công chức được giao nhiệm vụ hoàn thành bồi dưỡng"),
             ("courses_other_language", 0.15, None,
              "Đề án: 15–20% sản phẩm bằng tiếng dân tộc thiểu số, tiếng nước ngoài hoặc trên nền tảng số")],
            hr)
        activated = clock.at(_moment(activated_on, 8, 30))
        reports.activate_plan(plan, actor=hr)
        summary.plans = 2
        users = _plan_users(plan)
        by_unit: dict[int, list[User]] = defaultdict(list)
        for user in users:
            top = _top_unit(user, province)
            if top is not None:
                by_unit[top].append(user)
        behind = [units[c] for c in BEHIND if c in units and by_unit.get(units[c].id)][:3]
        at_risk = [units[c] for c in AT_RISK if c in units and by_unit.get(units[c].id)
                   and units[c] not in behind][:3]
        summary.behind = [u.code for u in behind]

        # The province set an earlier date for the first courses of the units behind.
        early_due = today - timedelta(days=24)
        lagging = sorted((u for unit in behind for u in by_unit[unit.id]), key=lambda u: u.id)
        clock.at(_moment(activated_on + timedelta(days=130), 10))
        for key in EARLY_COURSES:
            progress.create_assignments(maps[key].course, kind="user", due_date=early_due, actor=hr,
                                        users=lagging, plan_id=plan.id)

        completed = {(row.user_id, row.course_id) for row in db.session.execute(
            select(CourseCompletion.user_id, CourseCompletion.course_id))}
        pairs: list[_Pair] = [_Pair(u, maps[k], i) for u in users for i, k in enumerate(PLAN_COURSES)]
        pairs_of: dict[int, list[_Pair]] = defaultdict(list)
        for pair in pairs:
            pairs_of[pair.user.id].append(pair)
        for pair in pairs:
            if (pair.user.id, pair.course_map.course.id) in completed:
                pair.state = "earlier"
        # The officer account: foundations and the short Cơ Tu glossary done this year, the press course
        # half-way, the digital course not started.
        officer_states = {"hr-foundations": "done", "spokesperson-press": "officer", "digital-minority-comms": "todo",
                          "katu-spokesperson-glossary": "done"}
        for pair in pairs:
            if pair.user.id == officer.id and pair.state != "earlier":
                pair.state = officer_states.get(pair.course_map.course.key, "todo")
        diligence = {u.id: rng.random() for u in users}
        for unit_id, members in sorted(by_unit.items()):
            unit = next(a for a in units.values() if a.id == unit_id)
            wanted = Status.behind if unit in behind else Status.at_risk if unit in at_risk else Status.on_track
            mine = [p for m in members for p in pairs_of[m.id]]
            fixed_done = sum(1 for p in mine if p.state == "earlier" or (p.user.id == officer.id and p.state == "done"))
            fixed_open = sum(1 for p in mine if p.user.id == officer.id and p.state in ("officer", "todo"))
            k = _done_count(len(mine), fixed_done, fixed_open, wanted, activated_on, due, today, rng)
            free = sorted((p for p in mine if p.user.id != officer.id and p.state == "todo"),
                          key=lambda p: diligence[p.user.id] + 0.3 * p.index + rng.uniform(0, 0.2))
            for p in free[:max(0, k - fixed_done)]:
                p.state = "done"
            started_share = {Status.on_track: 1.0, Status.at_risk: 0.75, Status.behind: 0.45}[wanted]
            next_course: dict[int, int] = {}
            for p in sorted(mine, key=lambda p: p.index):
                if p.state == "todo" and p.user.id != officer.id:
                    first = next_course.setdefault(p.user.id, p.index) == p.index
                    if rng.random() < (started_share if first else 0.15):
                        p.state = "progress"
        # One officer of a unit at risk (or else any) submitted a final test yesterday: its essay waits.
        at_risk_ids = {unit.id for unit in at_risk}
        started = [p for p in pairs if p.state == "progress" and p.course_map.final is not None]
        started.sort(key=lambda p: (_top_unit(p.user, province) not in at_risk_ids, p.user.id, p.index))
        if started:
            started[0].state = "pending"

        # Play every officer's year, course by course: the demo accounts and the waiting essay through
        # the services, everyone else in bulk.
        total = len(users)
        accounts_ids = {u.id for u in accounts.values()}
        for done_users, user in enumerate(users, start=1):
            for pair in pairs_of[user.id]:
                cmap, lang = pair.course_map, lang_of(user, pair.course_map)
                by_services = user.id in accounts_ids or pair.state == "pending"
                if pair.state == "done":
                    if user.id == officer.id:
                        end = _moment(activated_on + timedelta(days=75), 16, 20)
                    else:
                        end = _when(activated + timedelta(days=10), now - timedelta(days=1), rng)
                    start = max(activated + timedelta(days=1), end - timedelta(days=rng.uniform(3, 25)))
                    if by_services:
                        replay.complete(user, cmap, lang, start, end, ability_of(user))
                    else:
                        jobs.append((user, cmap.course.key, lang, start, end, True))
                elif pair.state in ("progress", "pending", "officer"):
                    start = _when(activated + timedelta(days=5), now - timedelta(days=20), rng, a=1.5, b=1.5)
                    last_seen = _when(start + timedelta(days=1), now - timedelta(hours=2), rng, a=3, b=1.2)
                    if pair.state == "pending":  # submitted yesterday, waiting for the trainer
                        last_seen = now - timedelta(hours=rng.uniform(14, 30))
                    if by_services:
                        replay.begin(user, cmap, lang, start, last_seen, ability_of(user),
                                     pending_essay=pair.state == "pending",
                                     done_steps=6 if pair.state == "officer" else None)
                    else:
                        jobs.append((user, cmap.course.key, lang, start, last_seen, False))
            if progress_step is not None:
                progress_step(done_users, total)
        write_jobs()

        # One certificate revoked after an inspection.
        candidates = list(db.session.scalars(
            select(Certificate).join(User, User.id == Certificate.user_id)
            .where(Certificate.status == "valid", User.username.not_in([a[0] for a in DEMO_ACCOUNTS]),
                   Certificate.completed_at >= activated)
            .order_by(Certificate.id)))
        if candidates:
            clock.at(now - timedelta(days=12))
            certificates.revoke_certificate(rng.choice(candidates), actor=admin, reason=REVOKE_REASON)

        # The daily reminder job, the day after the earlier due date and yesterday (no e-mail is sent).
        no_mail = reminders.MailSettings(None, 25, False, None, None, "lms@localhost", "")
        for day in (early_due + timedelta(days=1), today - timedelta(days=1)):
            clock.at(_moment(day, 6, 0))
            sent, _emails = reminders.send(reminders.due_reminders(day, 7), no_mail)
            summary.notices += sent

    db.session.flush()
    summary.completions = db.session.scalar(select(func.count()).select_from(CourseCompletion)) or 0
    summary.certificates = db.session.scalar(select(func.count()).select_from(Certificate)) or 0
    summary.attempts += replay.attempts
    summary.seconds = time.monotonic() - began
    return summary


@click.command("demo", cls=transaction.Command, help="Load the demo province and a year of its training activity (idempotent).")
@click.option("--officers", default=400, show_default=True, help="How many officers in all.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has accounts.")
@click.option("--no-activity", is_flag=True, help="Only agencies and accounts: no plans, progress or certificates.")
@with_appcontext
def demo_command(officers: int, if_empty: bool, no_activity: bool) -> None:
    if if_empty and db.session.scalar(select(func.count()).select_from(User)):
        click.echo("demo: the database already has accounts; nothing loaded")
        return
    added = load_demo(officers=officers)
    click.echo(
        f"demo: {added['agencies']} agencies, {added['accounts']} demo accounts and "
        f"{added['officers']} officers added; demo password: {DEMO_PASSWORD}"
    )
    summary = None
    if not no_activity:
        with ExitStack() as stack:
            bars: list[Any] = []

            def step(done: int, total: int) -> None:
                if not bars:  # shown only once there is something to replay
                    bars.append(stack.enter_context(click.progressbar(
                        length=total, label="demo: replaying the year's training", show_pos=True)))
                bars[0].update(done - bars[0].pos)

            summary = load_activity(progress_step=step)
    if summary is not None:
        click.echo(summary.line())
    elif not no_activity:
        click.echo("demo activity: nothing added (a training plan exists already, or the courses are not "
                   "synced: run flask content sync --publish-new first)")
