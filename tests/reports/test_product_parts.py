"""The plan's communication-products target (15-20%), measured honestly: a course counts for the
minority part only with an edition in one of the province's ethnic-minority languages, for the foreign
part with any other non-Vietnamese edition, for the digital part with audio or video files."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lms.catalog.models import Asset
from lms.extensions import db
from lms.reports import queries
from lms.reports.targets import product_parts
from tests import factories
from tests.catalog.factories_catalog import course
from tests.reports import factories_reports as fr

MINORITY = frozenset({"ktv", "sed"})


def test_english_is_foreign_not_minority_and_vietnamese_is_neither():
    assert product_parts(["vi", "en"], False, MINORITY) == {"foreign"}
    assert product_parts(["vi"], False, MINORITY) == set()
    assert product_parts(["vi", "ktv-Latn"], True, MINORITY) == {"minority", "digital"}


@given(st.lists(st.sampled_from(["vi", "en", "fr", "ktv", "sed", "lo"]), max_size=5), st.booleans())
def test_a_course_counts_for_minority_exactly_when_it_has_a_minority_edition(languages, media):
    parts = product_parts(languages, media, MINORITY)
    assert ("minority" in parts) == any(code in MINORITY for code in languages)
    assert ("digital" in parts) == media


def test_the_plan_target_splits_into_parts_measured_from_the_courses(app):
    app.config["MINORITY_LANGUAGES"] = ("ktv",)
    hr = factories.user("hr.parts", roles={"officer", "hr"}, hr_all=True)
    english = course("english-edition", languages=("vi", "en"))
    katu = course("katu-edition", languages=("vi", "ktv"))
    video = course("with-video")
    db.session.add(Asset(course_id=video.id, path="clip.mp4", content_type="video/mp4", size=3, sha256="0" * 64,
                         data=b"abc"))
    plain = course("plain")
    plan = fr.plan(hr, courses=[english, katu, video, plain], agencies=[hr.agency],
                   targets=(("courses_other_language", 0.15, 0.2),))
    result = queries.plan_targets(hr, plan, queries.Filters())[0]
    assert (result.numerator, result.denominator) == (3, 4)
    assert dict(result.parts) == {"minority": 1, "foreign": 1, "digital": 1}
