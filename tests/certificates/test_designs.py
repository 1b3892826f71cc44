"""Which design a certificate gets: one test per precedence rule of designs.resolve_design (pure)."""

from __future__ import annotations

from lms.certificates.designs import (
    Design,
    course_settings_design,
    nearest_first,
    order_by_nearest,
    resolve_design,
)

COURSE_TEMPLATE = Design(source="course_template", layout="modern", issuer={"vi": "Sở Tư pháp"}, template_id=1)
COURSE_SETTINGS = {"enabled": True, "issuer": {"vi": "Sở Nội vụ", "en": "Department of Home Affairs"},
                   "signer_name": "Trần Văn Đức", "signer_title": {"vi": "GIÁM ĐỐC"}, "seal": "seal.svg"}
NEAR = Design(source="agency", layout="plain", issuer={"vi": "Phòng Tư pháp huyện"}, template_id=2)
FAR = Design(source="agency", layout="modern", issuer={"vi": "Ủy ban nhân dân tỉnh"}, template_id=3)
INSTALLATION = Design(source="installation", layout="plain", issuer={"vi": "Sở Nội vụ tỉnh"}, template_id=4)
BUILTIN = Design(source="builtin", issuer={"vi": "Ủy ban nhân dân tỉnh Sơn Hà"})


def resolve(**overrides):
    arguments = dict(course_template=COURSE_TEMPLATE, course_settings=COURSE_SETTINGS,
                     agency_templates=[NEAR, FAR], installation_template=INSTALLATION, builtin=BUILTIN)
    arguments.update(overrides)
    return resolve_design(**arguments)


def test_the_course_template_wins_over_everything():
    assert resolve() == COURSE_TEMPLATE


def test_without_a_course_template_the_course_certificate_settings_win_over_agency_and_installation():
    design = resolve(course_template=None)
    assert design.source == "course"
    assert design.issuer == {"vi": "Sở Nội vụ", "en": "Department of Home Affairs"}
    assert (design.signer_name, design.signer_title, design.seal_path) == (
        "Trần Văn Đức", {"vi": "GIÁM ĐỐC"}, "seal.svg")
    assert design.layout == "classic"


def test_course_settings_without_issuer_signer_or_seal_do_not_count():
    bare = {"enabled": True, "validity_months": 24, "issuer": {"vi": ""}, "signer_name": "",
            "signer_title": {}, "seal": None}
    assert course_settings_design(bare) is None
    assert resolve(course_template=None, course_settings=bare) == NEAR


def test_the_nearest_agency_template_wins_over_a_farther_ancestor_and_the_installation():
    assert resolve(course_template=None, course_settings={}) == NEAR


def test_the_installation_template_applies_when_no_agency_on_the_path_has_one():
    assert resolve(course_template=None, course_settings=None, agency_templates=[]) == INSTALLATION


def test_the_builtin_design_applies_when_nothing_is_configured():
    assert resolve(course_template=None, course_settings=None, agency_templates=[],
                   installation_template=None) == BUILTIN


def test_agency_templates_are_ordered_from_the_officers_own_agency_up_to_the_root():
    assert nearest_first("/1/5/9/") == [9, 5, 1]
    assert order_by_nearest({1: FAR, 5: NEAR, 7: INSTALLATION}, "/1/5/9/") == [NEAR, FAR]
    assert order_by_nearest({7: INSTALLATION}, "/1/5/9/") == []


def test_the_snapshot_records_where_the_design_came_from_and_what_it_says():
    snapshot = COURSE_TEMPLATE.snapshot()
    assert snapshot["source"] == "course_template"
    assert snapshot["template_id"] == 1
    assert snapshot["layout"] == "modern"
    assert snapshot["issuer"] == {"vi": "Sở Tư pháp"}
