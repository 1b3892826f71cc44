"""Public verification: no login, each state, typos caught, unknown codes, nothing personal, throttled."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms.certificates import codes, services
from lms.db import utcnow
from lms.extensions import db
from tests import factories as f
from tests.certificates import factories_certificates as cf

HOLDER = "Nguyễn Thị Hồng Nhung"


@pytest.fixture
def certificate(app):
    officer = f.user(full_name=HOLDER, email="nhung@example.vn", employee_id="SH-0042",
                     job_title="Chuyên viên")
    return cf.certified(officer, cf.course(hours=7.5))


def _typo(code: str) -> str:
    symbols = list(code.replace("-", ""))
    symbols[3] = "Z" if symbols[3] != "Z" else "Y"
    return codes._group("".join(symbols))


def test_a_valid_certificate_shows_holder_course_date_and_issuer_without_login(client, certificate):
    response = client.get(f"/verify/{certificate.code}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Giấy chứng nhận hợp lệ" in page
    assert HOLDER in page
    assert certificate.course_title in page
    assert "Sở Tư pháp tỉnh Sơn Hà" in page
    assert response.headers["X-Robots-Tag"].startswith("noindex")
    assert "no-store" in response.headers["Cache-Control"]


def test_the_verification_page_shows_nothing_else_personal(client, certificate):
    page = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    for private in ("nhung@example.vn", "SH-0042", "Chuyên viên", certificate.user.username,
                    certificate.agency_name):
        assert private not in page
    data = client.get(f"/verify/{certificate.code}.json").get_json()
    assert set(data) == {"code", "state", "holder_name", "course_title", "hours", "completed_at",
                         "issued_at", "expires_at", "valid_until", "issuer", "verification_url"}


def test_json_variant_by_suffix_and_by_format_parameter(client, certificate):
    by_suffix = client.get(f"/verify/{certificate.code}.json")
    by_param = client.get(f"/verify/{certificate.code}?format=json")
    assert by_suffix.status_code == by_param.status_code == 200
    assert by_suffix.get_json() == by_param.get_json()
    data = by_suffix.get_json()
    assert data["state"] == "valid" and data["holder_name"] == HOLDER
    assert data["hours"] == 7.5
    assert data["verification_url"] == f"http://lms.test/verify/{certificate.code}"
    assert by_suffix.headers["Cache-Control"] == "no-store"


def test_an_expired_certificate_says_expired(client, certificate):
    certificate.expires_at = utcnow() - timedelta(days=1)
    page = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "Giấy chứng nhận đã hết hạn" in page
    assert client.get(f"/verify/{certificate.code}.json").get_json()["state"] == "expired"


def test_a_revoked_certificate_says_revoked_but_not_why(client, certificate):
    admin = f.user(roles={"admin"})
    services.revoke_certificate(certificate, actor=admin, reason="Gian lận trong bài kiểm tra")
    response = client.get(f"/verify/{certificate.code}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Gian lận" not in page
    data = client.get(f"/verify/{certificate.code}.json").get_json()
    assert data["state"] == "revoked" and data["revoked_at"]


def test_a_replaced_certificate_says_so_and_shows_nothing_personal(client, certificate):
    admin = f.user(roles={"admin"})
    new = services.reissue_certificate(certificate, actor=admin, reason="Sai chính tả",
                                       holder_name="Nguyễn Thị Hồng Nhung Mới")
    page = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert HOLDER not in page and new.code not in page
    data = client.get(f"/verify/{certificate.code}.json").get_json()
    assert set(data) == {"code", "state", "superseded_at", "verification_url"}
    assert data["state"] == "superseded"
    assert client.get(f"/verify/{new.code}.json").get_json()["holder_name"] == "Nguyễn Thị Hồng Nhung Mới"


@pytest.mark.parametrize("typed", [
    lambda c: c.lower(),
    lambda c: c.replace("-", " "),
    lambda c: c.replace("-", ""),
    lambda c: "  " + c.lower().replace("-", "") + " ",
])
def test_the_form_forgives_case_spaces_and_dashes(client, certificate, typed):
    response = client.get("/verify", query_string={"code": typed(certificate.code)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/verify/{certificate.code}")


def test_a_non_canonical_address_redirects_to_the_canonical_one(client, certificate):
    response = client.get(f"/verify/{certificate.code.lower().replace('-', '')}")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/verify/{certificate.code}")


def test_a_mistyped_character_is_reported_as_a_typo_not_as_unknown(client, certificate):
    response = client.get("/verify", query_string={"code": _typo(certificate.code)})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "bị nhập nhầm" in page
    response = client.get(f"/verify/{_typo(certificate.code)}.json")
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]


def test_wrong_length_and_foreign_characters_are_named(client, app):
    page = client.get("/verify", query_string={"code": "ABCD-EFGH"}).get_data(as_text=True)
    assert "gồm 17 ký tự; bạn đã nhập 8 ký tự" in page
    page = client.get("/verify", query_string={"code": "ABCD-EFGH-JKMN-PQRS-U"}).get_data(as_text=True)
    assert "U" in page
    page = client.get("/verify", query_string={"code": ""}).get_data(as_text=True)
    assert client.get("/verify", query_string={"code": ""}).status_code == 400


def test_an_unknown_well_formed_code_is_not_found(client, app):
    code = codes.new_code()
    response = client.get(f"/verify/{code}")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Không có giấy chứng nhận nào mang số hiệu này" in page
    assert client.get(f"/verify/{code}.json").status_code == 404


def test_the_form_page_opens_empty_without_errors(client, app):
    response = client.get("/verify")
    assert response.status_code == 200
    assert 'class="errors"' not in response.get_data(as_text=True)


@pytest.fixture
def app_config():
    return {"VERIFY_MAX_MISSES": 5, "VERIFY_WINDOW_SECONDS": 600}


def test_guessing_is_rate_limited_per_address(client, certificate):
    for _ in range(5):
        assert client.get(f"/verify/{codes.new_code()}").status_code == 404
    response = client.get(f"/verify/{codes.new_code()}")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "600"
    assert "chờ 10 phút" in response.get_data(as_text=True)
    # Even a real code is refused until the window passes, so guesses cannot be confirmed.
    assert client.get(f"/verify/{certificate.code}.json").status_code == 429
    # Another address is not affected.
    other = client.get(f"/verify/{certificate.code}", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 200


def test_guessing_from_one_ipv6_network_is_limited_as_one_address(client, certificate):
    """Rule: one household or server gets a whole /64; counting each IPv6 address on its own let a
    guesser take a fresh address for every few codes."""
    for n in range(5):
        miss = client.get(f"/verify/{codes.new_code()}", environ_base={"REMOTE_ADDR": f"2001:db8:1:2::{n + 1:x}"})
        assert miss.status_code == 404
    fresh = client.get(f"/verify/{codes.new_code()}", environ_base={"REMOTE_ADDR": "2001:db8:1:2:ffff::9"})
    assert fresh.status_code == 429
    other = client.get(f"/verify/{certificate.code}", environ_base={"REMOTE_ADDR": "2001:db8:1:3::1"})
    assert other.status_code == 200


def test_known_codes_and_typos_do_not_count_towards_the_limit(client, certificate):
    for _ in range(8):
        assert client.get(f"/verify/{certificate.code}").status_code == 200
        assert client.get(f"/verify/{_typo(certificate.code)}").status_code == 400
    assert client.get(f"/verify/{codes.new_code()}").status_code == 404


def test_verification_runs_a_fixed_number_of_queries(client, app, count_queries):
    officers = [f.user() for _ in range(3)]
    course = cf.course()
    certificates = [cf.certified(o, course) for o in officers]
    db.session.commit()
    counts = []
    for certificate in certificates[:1] + certificates:
        with count_queries() as counter:
            client.get(f"/verify/{certificate.code}")
        counts.append(counter.count)
    assert max(counts) <= 3


def test_a_code_that_is_refused_is_announced_in_a_summary_linking_the_field(client, app):
    page = client.get("/verify", query_string={"code": "ABCD-EFGH"}).get_data(as_text=True)
    assert page.count('role="alert"') == 1
    summary = page.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert '<a href="#code">' in summary and "gồm 17 ký tự" in summary
