"""The officer field spec: one row per officer attribute, and everything about officers derives from it.

A row says what the attribute is called in a roster file (Vietnamese and English headers and the
aliases old HR spreadsheets use), whether a roster must have it, how a cell is cleaned and checked
(``read``: raw text -> value, or :class:`FieldProblem` with the message the officer's row gets), how it
is shown (``label``, ``display``) and where it appears: the roster template and upload page, the import
preview, HR's officer list and its export, the profile and the API.

Fields whose ``read`` is set are *simple*: the roster reader, the import and the export handle them
without knowing them (a column on ``User`` of the same name; an absent column keeps the stored value).
The historical fields (name, agency, username, duties ...) keep their own readers in ``roster.py``
because they depend on other rows and on the database, but take their headers and labels from here.
Pure core: no Flask, no database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import phonenumbers

from lms.i18n import _, lazy


class FieldProblem(ValueError):
    """A cell that cannot be stored; the message says what is wrong, in the reader's language."""


@dataclass(frozen=True)
class OfficerField:
    name: str
    header_vi: str
    header_en: str
    aliases: tuple[str, ...]
    required: bool
    description: Any  # a lazy string
    example_vi: tuple[str, str]
    example_en: tuple[str, str]
    label: Any  # a lazy string: preview, profile, exports
    read: Callable[[str], Any] | None = None  # simple fields only
    display: Callable[[Any], str] = lambda value: "" if value is None else str(value)
    in_api: bool = True
    # Simple fields only: the heading of the profile, the transcript, the admin form and HR's export
    # (a lazy string), a link for the stored value (tel:), and the value's JSON schema in the API.
    heading: Any = None
    href: Callable[[Any], str] | None = None
    api_schema: dict[str, Any] | None = None


_PHONE_CHARACTERS = re.compile(r"[0-9+().\s-]+")


def read_phone(raw: str) -> str | None:
    """A Vietnamese phone number as stored (E.164, "+84912345678"), or None when the cell is empty.

    Accepts the ways rosters write them: 0912 345 678, 0912.345.678, +84 912 345 678, (0235) 3812345,
    and 912345678 (a spreadsheet that took the number for a number and dropped its leading zero).
    Refuses what the Vietnamese numbering plan does not have (old 11-digit mobiles, short numbers).
    """
    text = raw.strip()
    if not text:
        return None
    if not _PHONE_CHARACTERS.fullmatch(text):
        raise FieldProblem(_("'%(phone)s' is not a phone number: use digits, spaces, dots or dashes, "
                             "e.g. 0912 345 678.", phone=raw))
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise FieldProblem(_("'%(phone)s' is not a valid Vietnamese phone number: a mobile has 10 digits "
                             "(0912 345 678), a landline 11 with its area code (0235 3812 345).",
                             phone=raw))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(value: str | None) -> str:
    """A stored phone number as Vietnamese write it (0912 345 678); foreign ones in international form."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "VN")
    except phonenumbers.NumberParseException:
        return value
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 84
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, style)


OFFICER_FIELDS: tuple[OfficerField, ...] = (
    OfficerField("full_name", "Họ và tên", "Full name",
                 ("Họ và tên", "Họ tên", "Họ và tên cán bộ", "Tên cán bộ", "full_name", "Full name", "name",
                  "Officer name", "Tên"), True,
                 lazy("Full name with diacritics."),
                 ("Nguyễn Thị Bích Đào", "Alăng Văn Hiếu"), ("Nguyễn Thị Bích Đào", "Alăng Văn Hiếu"),
                 lazy("name")),
    OfficerField("agency_code", "Mã đơn vị", "Agency code",
                 ("Mã đơn vị", "Mã ĐV", "Mã cơ quan", "agency_code", "Agency code", "Unit code"), True,
                 lazy("Code of the officer's agency, as on the Agencies page."),
                 ("STP", "X-AVUONG"), ("STP", "X-AVUONG"), lazy("agency")),
    OfficerField("job_title", "Chức vụ", "Job title",
                 ("Chức vụ", "Chức danh", "Chức vụ/Chức danh", "job_title", "Job title", "Position", "Title"),
                 False, lazy("Position, e.g. Chuyên viên."),
                 ("Chuyên viên", "Công chức"), ("Chuyên viên", "Công chức"), lazy("job title")),
    OfficerField("email", "Email", "Email",
                 ("Email", "E-mail", "Thư điện tử", "Địa chỉ email", "Địa chỉ thư điện tử", "Email address",
                  "Mail"), False, lazy("Work email address."),
                 ("daontb@sonha.gov.vn", ""), ("daontb@sonha.gov.vn", ""), lazy("email")),
    OfficerField("phone", "Số điện thoại", "Phone",
                 ("Số điện thoại", "Điện thoại", "SĐT", "Số ĐT", "ĐT", "Di động", "Số di động", "phone",
                  "Phone", "Phone number", "Mobile", "Tel"), False,
                 lazy("Optional. A Vietnamese mobile (0912 345 678) or landline with its area code "
                      "(0235 3812 345); spaces, dots and +84 are fine."),
                 ("0912 345 678", ""), ("0912 345 678", ""), lazy("phone"),
                 read=read_phone, display=display_phone, heading=lazy("Phone"), href=lambda v: f"tel:{v}",
                 api_schema={"type": ["string", "null"], "description": "E.164, e.g. +84912345678."}),
    OfficerField("username", "Tên đăng nhập", "Username",
                 ("Tên đăng nhập", "Tài khoản", "username", "User name", "Login"), False,
                 lazy("Letters a-z, digits, '.', '_' or '-'. Left empty, one is made from the name "
                      "(Nguyễn Thị Bích Đào: daontb)."),
                 ("", "hieuav"), ("", "hieuav"), lazy("username")),
    OfficerField("duties", "Nhiệm vụ", "Duties",
                 ("Nhiệm vụ", "Nhiệm vụ được giao", "Nhiệm vụ phụ trách", "duties", "Duty", "Duties"), False,
                 lazy("Designated duties separated by ';' (names or codes from the Duties page)."),
                 ("Người phát ngôn; Nhân quyền", ""), ("spokesperson; human_rights", ""), lazy("duties")),
    OfficerField("employee_id", "Mã cán bộ", "Employee ID",
                 ("Mã cán bộ", "Mã nhân viên", "Mã CB", "Mã NV", "Mã số cán bộ", "Số hiệu cán bộ",
                  "employee_id", "Employee ID", "Employee number", "Staff ID"), False,
                 lazy("Your own staff number; the surest way to recognise an officer in later files."),
                 ("CB0001", "CB0002"), ("CB0001", "CB0002"), lazy("employee id")),
    OfficerField("language", "Ngôn ngữ", "Language",
                 ("Ngôn ngữ", "Ngôn ngữ giao diện", "language", "Lang", "Locale"), False,
                 lazy("Interface language: vi or en (Vietnamese when empty)."),
                 ("vi", ""), ("en", ""), lazy("language"), in_api=False),
)  # fmt: skip

FIELDS = {f.name: f for f in OFFICER_FIELDS}
# The fields the roster reader and the import handle without knowing them.
SIMPLE_FIELDS: tuple[OfficerField, ...] = tuple(f for f in OFFICER_FIELDS if f.read is not None)


def filled_simple_fields(user: Any) -> list[tuple[OfficerField, Any]]:
    """The simple fields an officer has a value for, in spec order, with the stored value."""
    return [(f, getattr(user, f.name)) for f in SIMPLE_FIELDS if getattr(user, f.name) not in (None, "")]


def simple_api_values(user: Any) -> dict[str, Any]:
    """The simple fields as the API gives them: stored values, null when empty."""
    return {f.name: getattr(user, f.name) for f in SIMPLE_FIELDS if f.in_api}


def simple_api_schema() -> dict[str, Any]:
    return {f.name: f.api_schema or {"type": ["string", "null"]} for f in SIMPLE_FIELDS if f.in_api}
