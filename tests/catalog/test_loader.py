"""The content loader: the valid fixture course, and one test per rule that a broken course breaks."""

from __future__ import annotations

import shutil
import unicodedata
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from lms.catalog.loader import (
    Asset,
    ContentError,
    LoadResult,
    QuestionPick,
    ReviewOptions,
    is_language_code,
    language_name,
    load_content,
)

VALID_ROOT = Path(__file__).parent / "fixtures" / "valid"
COURSE = "rights-basics"


def edit(path: Path, old: str, new: str) -> None:
    """Replace `old` (which must be there exactly once) by `new` in a fixture file."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} not found once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def find(result: LoadResult, path: str, fragment: str) -> ContentError:
    """The one error for `path` whose message contains `fragment`."""
    matches = [e for e in result.errors if e.path == path and fragment in e.message]
    assert len(matches) == 1, f"expected one error on {path} with {fragment!r}, got:\n" + "\n".join(
        str(e) for e in result.errors
    )
    return matches[0]


MANIFEST = f"{COURSE}/course.yaml"


def manifest_line(root: Path, text: str) -> int:
    """The 1-based line of course.yaml that contains `text`."""
    lines = (root / MANIFEST).read_text(encoding="utf-8").split("\n")
    return next(number for number, line in enumerate(lines, start=1) if text in line)


# --- the valid course -------------------------------------------------------------------------------


def test_valid_fixture_course_loads_into_the_expected_structure():
    result = load_content(VALID_ROOT)

    assert result.errors == ()
    assert result.ok
    assert result.warnings == ()
    (course,) = result.courses
    assert course.key == "rights-basics"
    assert course.version == 2
    assert course.folder == "rights-basics"
    assert course.topic == "foundations"
    assert course.hours == 1.5
    assert course.languages == ("vi", "en")
    assert course.original_language == "vi"
    assert course.open is True
    assert course.title == {"vi": "Nhập môn quyền con người", "en": "Introduction to human rights"}
    assert set(course.summary) == {"vi", "en"}

    assert [m.key for m in course.modules] == ["m1-concepts", "m2-spokesperson"]
    assert course.modules[0].lessons == ("what-are-rights", "udhr")
    assert course.modules[0].quiz == "m1-quiz"
    assert course.modules[1].quiz is None
    assert course.modules[1].title == {"vi": "Người phát ngôn", "en": "The spokesperson"}

    assert list(course.lessons) == ["what-are-rights", "udhr", "spokesperson-basics"]
    udhr = course.lessons["udhr"]
    assert (udhr.module, udhr.position) == ("m1-concepts", 1)
    assert udhr.text("en").title == "The Universal Declaration of Human Rights"
    assert udhr.text("vi").minutes == 12
    assert udhr.text("vi").source == "vi/02-udhr.md"
    assert udhr.text("vi").body_line == 6
    assert udhr.text("vi").body.startswith("Tuyên ngôn được Đại hội đồng")

    m1 = course.quizzes["m1-quiz"]
    assert m1.picks == (
        QuestionPick(category=None, count=1, name="udhr-year"),
        QuestionPick(category="m1", count=2, name=None),
    )
    assert (m1.pass_mark, m1.time_limit_minutes, m1.max_attempts) == (70, 10, 3)
    assert m1.attempt_delay_minutes == 0
    assert m1.review == ReviewOptions(score=True, correct=False, feedback=True)
    assert (m1.final, m1.module, m1.shuffle_choices) == (False, "m1-concepts", True)
    final = course.quizzes["final-test"]
    assert final.final and final.module is None
    assert final.max_attempts is None  # 0 in course.yaml: unlimited
    assert final.attempt_delay_minutes == 60
    assert final.review == ReviewOptions()  # absent: everything shown

    assert course.completion.lessons == ("what-are-rights", "udhr", "spokesperson-basics")
    assert course.completion.quizzes == ("m1-quiz", "final-test")
    assert course.completion.min_final_score == 80

    cert = course.certificate
    assert cert.enabled and cert.validity_months == 24
    assert cert.signer_name == "Nguyễn Văn An"
    assert cert.signer_title["en"] == "Director of the Department of Justice"
    assert cert.seal == "seal.png"

    assert set(course.assets) == {"chart.png", "handout.pdf", "seal.png"}
    handout = course.assets["handout.pdf"]
    data = (VALID_ROOT / COURSE / "files" / "handout.pdf").read_bytes()
    assert handout == Asset(
        path="handout.pdf",
        size=len(data),
        sha256=__import__("hashlib").sha256(data).hexdigest(),
        content_type="application/pdf",
    )
    assert course.assets["chart.png"].content_type == "image/png"

    assert [bank.source for bank in course.banks["vi"]] == ["vi/bank.gift"]
    assert {q.name for q in course.banks["en"][0].questions} >= {"udhr-year", "spokesperson-rumour"}
    assert len(course.content_hash) == 64
    assert len({lesson.content_hash for lesson in course.lessons.values()}) == 3


def test_loaded_data_is_frozen():
    (course,) = load_content(VALID_ROOT).courses
    with pytest.raises(FrozenInstanceError):
        course.key = "other"  # type: ignore[misc]


def test_loading_twice_gives_equal_data_and_hashes():
    assert load_content(VALID_ROOT) == load_content(VALID_ROOT)


def test_root_readme_and_underscore_folders_are_not_courses():
    result = load_content(VALID_ROOT)
    assert [course.folder for course in result.courses] == ["rights-basics"]
    assert not any("_draft" in e.path for e in result.errors)


# --- syntax and encoding ------------------------------------------------------------------------------


def test_yaml_syntax_error_in_course_yaml_reports_its_line(content):
    edit(content / MANIFEST, "hours: 1.5", "hours: [1.5")
    result = load_content(content)
    error = find(result, MANIFEST, "YAML syntax error")
    assert error.line is not None and error.line >= manifest_line(content, "hours: [1.5")
    assert result.courses == ()


@pytest.mark.parametrize("text", ["", "\n  \n", "# the settings come later\n"])
def test_course_yaml_with_no_settings_is_reported_as_empty(content, text):
    """A course.yaml of blank lines or comments only is an empty YAML document: said so, not skipped
    silently (hypothesis found "#" giving neither an error nor a course)."""
    (content / MANIFEST).write_text(text, encoding="utf-8")
    result = load_content(content)
    assert find(result, MANIFEST, "course.yaml is empty").line == 1
    assert result.courses == ()


def test_yaml_syntax_error_in_front_matter_counts_lines_from_the_top_of_the_file(content):
    lesson = content / COURSE / "en" / "02-udhr.md"
    edit(lesson, "title: The Universal Declaration of Human Rights", "title: 'unclosed")
    result = load_content(content)
    error = find(result, f"{COURSE}/en/02-udhr.md", "YAML syntax error")
    assert error.line in (
        3,
        4,
    )  # the quote opens on line 3; PyYAML notices at the end of the scalar


def test_lesson_without_front_matter_is_an_error_on_line_1(content):
    lesson = content / COURSE / "vi" / "03-spokesperson.md"
    lesson.write_text("Chỉ có nội dung, không có phần đầu.\n", encoding="utf-8")
    error = find(load_content(content), f"{COURSE}/vi/03-spokesperson.md", "front matter")
    assert error.line == 1


def test_unclosed_front_matter_is_an_error(content):
    lesson = content / COURSE / "vi" / "03-spokesperson.md"
    lesson.write_text("---\nkey: spokesperson-basics\ntitle: x\nminutes: 3\n", encoding="utf-8")
    find(load_content(content), f"{COURSE}/vi/03-spokesperson.md", "not closed")


def test_non_utf8_lesson_reports_the_line_of_the_bad_byte(content):
    lesson = content / COURSE / "vi" / "02-udhr.md"
    data = lesson.read_bytes().replace(b"Paris", b"Paris" + b"\xff")
    lesson.write_bytes(data)
    error = find(load_content(content), f"{COURSE}/vi/02-udhr.md", "UTF-8")
    assert error.line == 6


def test_yaml_key_given_twice_is_an_error_on_the_second(content):
    edit(content / MANIFEST, "hours: 1.5\n", "hours: 1.5\nhours: 2\n")
    error = find(load_content(content), MANIFEST, "given twice")
    assert error.line == manifest_line(content, "hours: 2")


# --- required fields, types and ranges ------------------------------------------------------------------


def test_missing_translation_of_a_title_points_at_the_title_line(content):
    edit(content / MANIFEST, "  en: Introduction to human rights\n", "")
    error = find(load_content(content), MANIFEST, "missing the en text")
    assert "title" in error.message
    assert error.line == manifest_line(content, "title:")


def test_missing_translation_in_a_flow_mapping_points_at_its_line(content):
    edit(content / MANIFEST, "{vi: Khái niệm, en: Concepts}", "{vi: Khái niệm}")
    error = find(load_content(content), MANIFEST, "modules[1].title is missing the en text")
    assert error.line == manifest_line(content, "{vi: Khái niệm}")


def test_text_in_a_language_not_in_languages_is_an_error(content):
    edit(
        content / MANIFEST, "{vi: Khái niệm, en: Concepts}", "{vi: Khái niệm, en: Concepts, fr: X}"
    )
    error = find(load_content(content), MANIFEST, "'fr' is not one of the course languages")
    assert error.line == manifest_line(content, "fr: X")


def test_missing_required_field_points_at_its_mapping(content):
    edit(content / MANIFEST, "    pass_mark: 80\n", "")
    error = find(load_content(content), MANIFEST, "quizzes[2].pass_mark is required")
    assert error.line == manifest_line(content, "- key: final-test")


def test_missing_top_level_field_is_an_error(content):
    edit(content / MANIFEST, "topic: foundations\n", "")
    find(load_content(content), MANIFEST, "topic is required")


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("version: 2", "version: two", "version must be a whole number"),
        ("version: 2", "version: 0", "version must be at least 1"),
        ("version: 2", "version: true", "version must be a whole number"),
        ("hours: 1.5", "hours: -1", "hours must be more than 0"),
        ("hours: 1.5", "hours: many", "hours must be a number"),
        ("open: true", "open: maybe", "open must be true or false"),
        ("topic: foundations", "topic: cooking", "topic must be one of"),
        ("pass_mark: 70", "pass_mark: 170", "pass_mark must be between 0 and 100"),
        ("count: 1", "count: one", "count must be a whole number"),
        ("validity_months: 24", "validity_months: -3", "validity_months must be between"),
        ("signer_name: Nguyễn Văn An", "signer_name: [a, b]", "signer_name must be text"),
        ("languages: [vi, en]", "languages: vi", "languages must be a list"),
        ("modules:\n", "modules: 3\nmodules_old:\n", "modules must be a list"),
        ("review: {score: true", "review: {score: 1", "review.score must be true or false"),
    ],
)
def test_wrong_type_or_range_is_an_error_on_its_line(content, old, new, fragment):
    edit(content / MANIFEST, old, new)
    result = load_content(content)
    error = find(result, MANIFEST, fragment)
    assert error.line == manifest_line(content, new.split("\n")[0])
    assert result.courses == ()


def test_wrong_type_in_front_matter_is_an_error_on_its_line(content):
    edit(content / COURSE / "en" / "01-what-are-rights.md", "minutes: 10", "minutes: ten")
    error = find(load_content(content), f"{COURSE}/en/01-what-are-rights.md", "minutes")
    assert error.line == 4


def test_missing_lesson_title_does_not_also_claim_the_lesson_is_missing(content):
    edit(content / COURSE / "en" / "01-what-are-rights.md", "title: What are human rights?\n", "")
    result = load_content(content)
    error = find(result, f"{COURSE}/en/01-what-are-rights.md", "title is required")
    assert error.line == 1
    assert len(result.errors) == 1


def test_unknown_field_is_an_error_so_typos_do_not_fall_back_to_defaults(content):
    edit(content / MANIFEST, "    max_attempts: 3\n", "    max_atempts: 3\n")
    error = find(load_content(content), MANIFEST, "max_atempts is not a known field")
    assert error.line == manifest_line(content, "max_atempts")


@pytest.mark.parametrize("bad", ["Rights_Basics", "rb", "rights--basics", "-rights"])
def test_course_key_must_have_the_key_format(content, bad):
    edit(content / MANIFEST, "key: rights-basics", f"key: '{bad}'")
    error = find(load_content(content), MANIFEST, "not a valid key")
    assert error.line == 1


def test_lesson_key_must_have_the_key_format(content):
    edit(content / MANIFEST, "lessons: [spokesperson-basics]", "lessons: [Spokesperson Basics]")
    error = find(load_content(content), MANIFEST, "'Spokesperson Basics' is not a valid key")
    assert error.line == manifest_line(content, "Spokesperson Basics")


# --- languages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["vi", "en", "kuf", "sed", "jeh", "cua", "zh-Hant", "hmn", "xyz"])
def test_iso_639_and_bcp_47_codes_are_language_codes(code):
    assert is_language_code(code)


@pytest.mark.parametrize("code", ["", "VI", "vietnamese", "v", "vi_VN", "vi-", "12"])
def test_other_strings_are_not_language_codes(code):
    assert not is_language_code(code)


def test_known_codes_have_names_and_unknown_codes_show_themselves():
    assert language_name("ktv") == "Katu (Cơ Tu)"
    assert language_name("vi") == "Vietnamese"
    assert language_name("xyz") == "xyz"


def test_a_minority_language_edition_loads(content):
    course = content / COURSE
    shutil.copytree(course / "vi", course / "kuf")
    manifest = (course / "course.yaml").read_text(encoding="utf-8")
    manifest = manifest.replace("languages: [vi, en]", "languages: [vi, en, kuf]")
    # Every localised field gets a Katu entry (here the Vietnamese text stands in for it).
    lines = []
    for line in manifest.split("\n"):
        lines.append(line)
        stripped = line.strip()
        if stripped.startswith("vi: ") and not stripped.endswith("}"):
            lines.append(line.replace("vi: ", "kuf: ", 1))
    manifest = "\n".join(lines)
    # Flow mappings ({vi: …, en: …}) are the localised ones, except review's.
    manifest = manifest.replace("}", ", kuf: Katu}")
    manifest = manifest.replace("feedback: true, kuf: Katu}", "feedback: true}")
    (course / "course.yaml").write_text(manifest, encoding="utf-8")

    result = load_content(content)

    assert result.errors == ()
    (loaded,) = result.courses
    assert loaded.languages == ("vi", "en", "kuf")
    assert loaded.lessons["udhr"].text("kuf").source == "kuf/02-udhr.md"


def test_bad_language_code_is_an_error_on_the_languages_line(content):
    edit(content / MANIFEST, "languages: [vi, en]", "languages: [vi, English]")
    error = find(load_content(content), MANIFEST, "'English' is not a language code")
    assert error.line == manifest_line(content, "languages:")


def test_missing_language_folder_is_an_error(content):
    shutil.rmtree(content / COURSE / "en")
    error = find(load_content(content), MANIFEST, "folder en/")
    assert error.line == manifest_line(content, "languages:")


def test_language_folder_not_in_languages_is_an_error_but_a_draft_folder_is_not(content):
    shutil.copytree(content / COURSE / "en", content / COURSE / "kuf")
    shutil.copytree(content / COURSE / "en", content / COURSE / "_sed")
    result = load_content(content)
    find(result, f"{COURSE}/kuf", "not part of the course format")
    assert not any("_sed" in e.path for e in result.errors)


# --- keys: duplicates, missing, unlisted ------------------------------------------------------------------


def test_duplicate_course_key_across_folders_is_an_error_on_both(content):
    shutil.copytree(content / COURSE, content / "rights-basics-copy")
    result = load_content(content)
    first = find(result, MANIFEST, "course key 'rights-basics' is also used by")
    second = find(
        result, "rights-basics-copy/course.yaml", "is also used by rights-basics/course.yaml"
    )
    assert first.line == second.line == 1
    assert result.courses == ()


def test_duplicate_lesson_key_in_one_language_is_an_error_on_the_second_file(content):
    shutil.copy(content / COURSE / "vi" / "02-udhr.md", content / COURSE / "vi" / "04-udhr-copy.md")
    error = find(
        load_content(content), f"{COURSE}/vi/04-udhr-copy.md", "also used by vi/02-udhr.md"
    )
    assert error.line == 2


def test_lesson_listed_in_two_modules_is_an_error(content):
    edit(
        content / MANIFEST, "lessons: [spokesperson-basics]", "lessons: [spokesperson-basics, udhr]"
    )
    error = find(load_content(content), MANIFEST, "'udhr' is listed more than once")
    assert error.line == manifest_line(content, "[spokesperson-basics, udhr]")


def test_module_key_used_twice_is_an_error(content):
    edit(content / MANIFEST, "key: m2-spokesperson", "key: m1-concepts")
    find(load_content(content), MANIFEST, "module key 'm1-concepts' is used twice")


def test_lesson_missing_in_one_language_edition_is_an_error_where_the_module_lists_it(content):
    (content / COURSE / "en" / "02-udhr.md").unlink()
    result = load_content(content)
    error = find(result, MANIFEST, "lesson 'udhr' has no en file")
    assert error.line == manifest_line(content, "lessons: [what-are-rights, udhr]")
    assert result.courses == ()


def test_lesson_file_whose_key_is_in_no_module_is_an_error(content):
    (content / COURSE / "vi" / "09-extra.md").write_text(
        "---\nkey: extra\ntitle: Bài thêm\nminutes: 5\n---\nNội dung.\n", encoding="utf-8"
    )
    error = find(load_content(content), f"{COURSE}/vi/09-extra.md", "not listed in any module")
    assert error.line == 2


def test_renaming_a_lesson_file_keeps_its_key_and_hashes(content):
    before = load_content(content).courses[0]
    lesson_dir = content / COURSE / "en"
    (lesson_dir / "02-udhr.md").rename(lesson_dir / "07-declaration-renamed.md")

    result = load_content(content)

    assert result.errors == ()
    after = result.courses[0]
    assert after.lessons["udhr"].text("en").source == "en/07-declaration-renamed.md"
    assert after.lessons["udhr"].content_hash == before.lessons["udhr"].content_hash
    assert after.content_hash == before.content_hash


def test_editing_a_lesson_changes_its_hash_and_the_course_hash_only(content):
    before = load_content(content).courses[0]
    edit(content / COURSE / "en" / "02-udhr.md", "to read more.", "to read more about it.")

    after = load_content(content).courses[0]

    assert after.lessons["udhr"].content_hash != before.lessons["udhr"].content_hash
    assert after.lessons["udhr"].text("vi") == before.lessons["udhr"].text("vi")
    assert (
        after.lessons["what-are-rights"].content_hash
        == before.lessons["what-are-rights"].content_hash
    )
    assert after.content_hash != before.content_hash


def test_changing_a_file_changes_the_course_hash(content):
    before = load_content(content).courses[0]
    (content / COURSE / "files" / "handout.pdf").write_bytes(b"%PDF-1.4\n% another handout\n")
    after = load_content(content).courses[0]
    assert after.assets["handout.pdf"].sha256 != before.assets["handout.pdf"].sha256
    assert after.content_hash != before.content_hash


def test_text_is_normalised_to_nfc_so_the_same_words_hash_the_same(content):
    before = load_content(content).courses[0]
    lesson = content / COURSE / "vi" / "02-udhr.md"
    text = lesson.read_text(encoding="utf-8")
    lesson.write_bytes(unicodedata.normalize("NFD", text).replace("\n", "\r\n").encode("utf-8"))

    after = load_content(content).courses[0]

    assert after.lessons["udhr"].text("vi").title == "Tuyên ngôn toàn thế giới về quyền con người"
    assert after.lessons["udhr"].content_hash == before.lessons["udhr"].content_hash


# --- files -------------------------------------------------------------------------------------------------


def test_missing_file_referenced_from_a_lesson_is_an_error_on_its_line(content):
    edit(content / COURSE / "en" / "01-what-are-rights.md", "files/chart.png", "files/charts.png")
    error = find(load_content(content), f"{COURSE}/en/01-what-are-rights.md", "files/charts.png")
    assert error.line == 10


def test_missing_file_referenced_from_raw_html_is_an_error(content):
    edit(
        content / COURSE / "en" / "02-udhr.md",
        "Download the",
        '<a href="files/missing.pdf">Also</a> download the',
    )
    error = find(
        load_content(content), f"{COURSE}/en/02-udhr.md", "files/missing.pdf does not exist"
    )
    assert error.line == 8


def test_file_reference_leaving_files_folder_is_an_error(content):
    edit(content / COURSE / "en" / "02-udhr.md", "files/handout.pdf", "files/../course.yaml")
    find(load_content(content), f"{COURSE}/en/02-udhr.md", "outside the course's files/ folder")


def test_missing_seal_is_an_error(content):
    (content / COURSE / "files" / "seal.png").unlink()
    error = find(load_content(content), MANIFEST, "files/seal.png does not exist")
    assert error.line == manifest_line(content, "seal: files/seal.png")


def test_seal_must_be_an_image(content):
    edit(content / MANIFEST, "seal: files/seal.png", "seal: files/handout.pdf")
    find(load_content(content), MANIFEST, "certificate.seal must be a PNG, JPEG or WebP image")


def test_svg_and_unknown_file_types_are_refused(content):
    (content / COURSE / "files" / "logo.svg").write_text("<svg><script>alert(1)</script></svg>")
    (content / COURSE / "files" / "tool.exe").write_bytes(b"MZ")
    result = load_content(content)
    find(result, f"{COURSE}/files/logo.svg", "not accepted")
    find(result, f"{COURSE}/files/tool.exe", "not accepted")


def test_unused_file_is_a_warning_not_an_error(content):
    (content / COURSE / "files" / "spare.png").write_bytes(
        (content / COURSE / "files" / "chart.png").read_bytes()
    )
    result = load_content(content)
    assert result.ok
    assert [w.path for w in result.warnings] == [f"{COURSE}/files/spare.png"]


def test_stray_file_in_a_language_folder_is_an_error(content):
    (content / COURSE / "vi" / "photo.png").write_bytes(b"png")
    find(load_content(content), f"{COURSE}/vi/photo.png", "only lessons (.md) and question banks")


def test_course_folder_without_course_yaml_is_an_error(content):
    (content / "empty-course").mkdir()
    find(load_content(content), "empty-course/course.yaml", "needs a course.yaml")


# --- quizzes, completion, certificate ----------------------------------------------------------------------


def test_quiz_category_missing_from_a_language_bank_is_an_error(content):
    edit(content / COURSE / "en" / "bank.gift", "$CATEGORY: m2", "$CATEGORY: module-2")
    error = find(load_content(content), MANIFEST, "category 'm2' has no questions in the en")
    assert error.line == manifest_line(content, "- category: m2")


def test_quiz_drawing_more_questions_than_a_category_has_is_an_error(content):
    edit(content / MANIFEST, "category: m2\n        count: 2", "category: m2\n        count: 3")
    result = load_content(content)
    for language in ("vi", "en"):
        error = find(result, MANIFEST, f"the {language} question bank has only 2")
        assert error.line == manifest_line(content, "- category: m2")


def test_questions_picked_by_name_are_not_counted_as_available_for_draws(content):
    # m1 has 4 questions; m1-quiz picks udhr-year by name, so only 3 remain for the draw.
    edit(content / MANIFEST, "category: m1\n        count: 2", "category: m1\n        count: 4")
    error = find(
        load_content(content), MANIFEST, "category 'm1', but the vi question bank has only 3"
    )
    assert "draws 4 questions" in error.message


def test_draws_from_the_same_category_add_up(content):
    edit(
        content / MANIFEST,
        "      - category: m1\n        count: 1\n",
        "      - category: m1\n        count: 3\n      - category: m1\n        count: 2\n",
    )
    error = find(
        load_content(content), MANIFEST, "category 'm1', but the en question bank has only 4"
    )
    assert "draws 5 questions" in error.message


def test_quiz_question_name_missing_from_a_bank_is_an_error(content):
    edit(content / COURSE / "vi" / "bank.gift", "::udhr-year::", "::udhr-nam::")
    error = find(
        load_content(content), MANIFEST, "question 'udhr-year' is not in the vi question bank"
    )
    assert error.line == manifest_line(content, "- name: udhr-year")


def test_question_name_defined_twice_in_a_language_is_an_error(content):
    (content / COURSE / "en" / "extra.gift").write_text(
        "$CATEGORY: m2\n\n::universal::Again?{T}\n", encoding="utf-8"
    )
    error = find(load_content(content), f"{COURSE}/en/extra.gift", "'universal' is defined twice")
    assert error.line == 3


def test_gift_parse_errors_are_reported_with_their_file_and_line(content):
    bank = content / COURSE / "en" / "bank.gift"
    text = (
        bank.read_text(encoding="utf-8") + "\n::broken::An answer block that never closes {=a ~b\n"
    )
    bank.write_text(text, encoding="utf-8")
    error = find(load_content(content), f"{COURSE}/en/bank.gift", "not closed")
    assert (
        error.line
        == text.split("\n").index("::broken::An answer block that never closes {=a ~b") + 1
    )


def test_question_without_a_name_is_an_error_because_its_key_would_change_with_its_text(content):
    bank = content / COURSE / "vi" / "bank.gift"
    text = bank.read_text(encoding="utf-8") + "\n// no name below\nCâu hỏi không có tên?{T}\n"
    bank.write_text(text, encoding="utf-8")
    error = find(load_content(content), f"{COURSE}/vi/bank.gift", "needs a ::name::")
    assert error.line == text.split("\n").index("Câu hỏi không có tên?{T}") + 1


def test_description_items_do_not_count_as_questions_to_draw(content):
    bank = content / COURSE / "en" / "bank.gift"
    text = (
        bank.read_text(encoding="utf-8")
        + "\n::intro-m2::Questions about the spokesperson follow.\n"
    )
    bank.write_text(text, encoding="utf-8")
    edit(content / MANIFEST, "category: m2\n        count: 2", "category: m2\n        count: 3")
    find(load_content(content), MANIFEST, "the en question bank has only 2")


def test_pick_needs_a_name_or_a_category_and_count(content):
    edit(
        content / MANIFEST,
        "      - name: udhr-year\n",
        "      - name: udhr-year\n        count: 2\n",
    )
    find(load_content(content), MANIFEST, "give either `name`")


def test_module_quiz_must_be_defined(content):
    edit(content / MANIFEST, "quiz: m1-quiz", "quiz: m9-quiz")
    error = find(load_content(content), MANIFEST, "quiz 'm9-quiz' is not defined")
    assert error.line == manifest_line(content, "quiz: m9-quiz")


def test_only_one_quiz_can_be_final(content):
    edit(
        content / MANIFEST,
        "    shuffle_choices: true\n",
        "    shuffle_choices: true\n    final: true\n",
    )
    error = find(load_content(content), MANIFEST, "only one quiz can be the final test")
    assert error.line == manifest_line(content, "- key: final-test")


def test_min_final_score_needs_a_final_quiz(content):
    edit(content / MANIFEST, "    final: true\n", "")
    result = load_content(content)
    find(result, MANIFEST, "min_final_score needs a quiz with final: true")


def test_quiz_shown_by_no_module_and_not_final_is_a_warning(content):
    edit(content / MANIFEST, "    final: true\n", "")
    edit(content / MANIFEST, "  min_final_score: 80\n", "")
    result = load_content(content)
    assert result.ok
    assert any("'final-test' is not shown by any module" in w.message for w in result.warnings)


def test_completion_keys_must_exist(content):
    edit(content / MANIFEST, "quizzes: [m1-quiz, final-test]", "quizzes: [m1-quiz, m2-quiz]")
    find(load_content(content), MANIFEST, "quiz 'm2-quiz' does not exist")


def test_completion_lists_are_kept_and_all_is_resolved(content):
    edit(content / MANIFEST, "  lessons: all\n", "  lessons: [udhr]\n")
    edit(content / MANIFEST, "quizzes: [m1-quiz, final-test]", "quizzes: all")
    (course,) = load_content(content).courses
    assert course.completion.lessons == ("udhr",)
    assert course.completion.quizzes == ("m1-quiz", "final-test")


def test_enabled_certificate_needs_issuer_and_signer(content):
    edit(content / MANIFEST, "  signer_name: Nguyễn Văn An\n", "")
    find(load_content(content), MANIFEST, "certificate.signer_name is required")


def test_absent_certificate_means_no_certificate(content):
    text = (content / MANIFEST).read_text(encoding="utf-8")
    (content / MANIFEST).write_text(text.split("certificate:")[0], encoding="utf-8")
    result = load_content(content)
    assert result.ok, result.errors
    assert result.warnings == (
        ContentError(f"{COURSE}/files/seal.png", None, "no lesson or certificate uses this file"),
    )
    assert result.courses[0].certificate.enabled is False


def test_one_broken_course_does_not_hide_a_good_one(content):
    shutil.copytree(content / COURSE, content / "second")
    edit(content / "second" / "course.yaml", "key: rights-basics", "key: second-course")
    edit(content / "second" / "course.yaml", "version: 2", "version: -2")
    result = load_content(content)
    assert [course.key for course in result.courses] == ["rights-basics"]
    assert {e.path for e in result.errors} == {"second/course.yaml"}


def test_error_string_names_file_and_line():
    assert str(ContentError("c/course.yaml", 7, "boom")) == "c/course.yaml:7: boom"
    assert str(ContentError("c/files/x.svg", None, "boom")) == "c/files/x.svg: boom"


def test_symbolic_links_are_refused_so_sync_cannot_publish_other_files(content, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("mật khẩu", encoding="utf-8")
    (content / COURSE / "files" / "notes.txt").symlink_to(secret)
    lesson = content / COURSE / "en" / "03-spokesperson.md"
    moved = tmp_path / "03-spokesperson.md"
    lesson.rename(moved)
    lesson.symlink_to(moved)
    result = load_content(content)
    find(result, f"{COURSE}/files/notes.txt", "symbolic links are not accepted")
    find(result, f"{COURSE}/en/03-spokesperson.md", "symbolic links are not accepted")
    assert result.courses == ()


def test_missing_content_root_is_an_error_not_a_crash(tmp_path):
    result = load_content(tmp_path / "nowhere")
    assert not result.ok and result.courses == ()


# --- Vietnamese short answers typed without diacritics (records, issue 18) ------------------------

SHORT = "\n::rights-word::Từ Hán Việt đồng nghĩa với “quyền con người” là gì?{=nhân quyền}\n"


@pytest.mark.parametrize(("marker", "warned"), [
    ("", True),
    ("// [lms:ignore-diacritics]", False),
    ("// [lms:diacritics-matter] (tuyệt mật / tối mật: the marks are the meaning)", False),
])
def test_a_vietnamese_short_answer_that_refuses_answers_without_diacritics_is_warned_about(content, marker, warned):
    bank = content / COURSE / "vi" / "bank.gift"
    bank.write_text(bank.read_text(encoding="utf-8") + "\n" + marker + SHORT, encoding="utf-8")
    result = load_content(content)
    assert result.ok
    messages = [w.message for w in result.warnings if "rights-word" in w.message]
    assert bool(messages) == warned
    if warned:
        assert "[lms:ignore-diacritics]" in messages[0]


def test_every_shipped_vietnamese_short_answer_accepts_answers_typed_without_diacritics():
    from lms.questionformat.questions import question_to_dict
    from lms.quizzes import grading

    result = load_content(Path(__file__).parents[2] / "content")
    assert result.ok and result.warnings == ()
    shorts = [q for c in result.courses for b in c.banks.get("vi", ()) for q in b.questions if q.type == "short"]
    assert len(shorts) >= 10 and all(q.ignore_diacritics for q in shorts)
    synonym = next(q for q in shorts if q.name == "m4-synonym")
    snapshot = question_to_dict(synonym)
    assert grading.grade(snapshot, grading.normalise_response(snapshot, "nhan quyen")).fraction == 1.0
