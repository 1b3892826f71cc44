"""Small factory functions for test data. Each flushes; tests commit when they need to."""

from __future__ import annotations

import itertools
from typing import Any

from lms.auth.passwords import hash_password
from lms.extensions import db
from lms.org import services
from lms.org.models import Agency, User

_seq = itertools.count(1)
PASSWORD = "đúng-mật-khẩu-2024"


def agency(code: str | None = None, *, parent: Agency | None = None, kind: str = "department",
           name_vi: str | None = None, **kw: Any) -> Agency:
    n = next(_seq)
    return services.create_agency(
        code=code or f"AG{n}", name_vi=name_vi or f"Sở Thử nghiệm {n}", name_en=f"Test department {n}",
        kind=kind, parent=parent, **kw,
    )


def user(
    username: str | None = None,
    *,
    agency: Agency | None = None,
    roles: set[str] | None = None,
    duties: set[str] | None = None,
    hr_agencies: list[Agency] | None = None,
    hr_all: bool = False,
    password: str | None = PASSWORD,
    full_name: str | None = None,
    **kw: Any,
) -> User:
    n = next(_seq)
    services.ensure_builtin_duties()
    the_agency = agency or globals()["agency"]()
    u = services.create_user(
        services.UserData(
            username=username or f"user{n}",
            full_name=full_name or f"Nguyễn Thị Hồng {n}",
            agency=the_agency,
            roles=roles or {"officer"},
            duty_codes=duties or set(),
            hr_agency_ids={a.id for a in hr_agencies or []},
            hr_all_agencies=hr_all,
            **kw,
        )
    )
    if password:
        u.password_hash = hash_password(password, "fast")
    db.session.flush()
    return u


def report_totals(html: str) -> dict[str, str]:
    """The footer row of a report's count table, by count name (COUNT_KEYS order), e.g. {"overdue": "12"}."""
    import re

    from lms.reports.documents import COUNT_KEYS

    foot = re.search(r"<tfoot>(.*?)</tfoot>", html, re.S)
    assert foot, "the page has no report table footer"
    cells = [re.sub(r"<[^>]+>|\s+", "", c)
             for c in re.findall(r'<td class="num[^"]*"[^>]*>(.*?)</td>', foot.group(1), re.S)]
    assert len(cells) == len(COUNT_KEYS), cells
    return dict(zip(COUNT_KEYS, cells))
