"""``flask demo``: a realistic demo province, loaded idempotently.

The province "Sơn Hà" is fictional. Its tree follows the two-level local government in force since
July 2025 (province -> departments, organisations, press and communes), with units under some of them.
Names are generated from common Vietnamese family, middle and given names with a fixed seed, so every
run gives the same officers.
"""

from __future__ import annotations

import random
import unicodedata

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from lms.auth.passwords import hash_password
from lms.extensions import db
from lms.org import services
from lms.org.models import Agency, Duty, User

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


@click.command("demo", help="Load the demo province (idempotent).")
@click.option("--officers", default=400, show_default=True, help="How many officers in all.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has accounts.")
@with_appcontext
def demo_command(officers: int, if_empty: bool) -> None:
    if if_empty and db.session.scalar(select(func.count()).select_from(User)):
        click.echo("demo: the database already has accounts; nothing loaded")
        return
    added = load_demo(officers=officers)
    db.session.commit()
    click.echo(
        f"demo: {added['agencies']} agencies, {added['accounts']} demo accounts and "
        f"{added['officers']} officers added; demo password: {DEMO_PASSWORD}"
    )
