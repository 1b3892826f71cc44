"""Content sync: validate everything first, upsert by stable keys, archive what disappeared, never
overwrite web edits, and keep officers' progress across edits and renames."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms import signals
from lms.catalog import sync as sync_module
from lms.catalog.loader import load_content
from lms.catalog.models import Asset, Course, Lesson, LessonRevision, LessonText
from lms.catalog.sync import sync_content
from lms.extensions import db
from lms.progress import services as progress
from lms.progress.models import LessonProgress
from tests import factories

REAL_CONTENT = Path(__file__).resolve().parents[2] / "content"
LESSON = "rights-basics/vi/02-udhr.md"


@pytest.fixture
def app_config():
    """Messages are asserted in English here (Vietnamese is the default outside a request)."""
    return {"BABEL_DEFAULT_LOCALE": "en"}


def _sync(runner, root: Path, *args: str):
    return runner.invoke(args=["content", "sync", str(root), *args])


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_the_real_content_folder_syncs_without_errors(app, runner):
    result = load_content(REAL_CONTENT)
    assert result.errors == (), [str(e) for e in result.errors]
    out = _sync(runner, REAL_CONTENT)
    assert out.exit_code == 0, out.output
    keys = set(db.session.scalars(select(Course.key)))
    assert {"hr-foundations", "spokesperson-press", "misinformation-response", "digital-minority-comms"} <= keys


def test_sync_reports_added_then_running_twice_changes_nothing(app, runner, content):
    first = _sync(runner, content)
    assert first.exit_code == 0, first.output
    assert "course: 1 added" in first.output
    assert "lesson: 3 added" in first.output and "file: 3 added" in first.output
    revisions = _count(LessonRevision)
    second = _sync(runner, content)
    assert second.exit_code == 0
    assert "course: 1 unchanged; module: 2 unchanged; lesson: 3 unchanged; file: 3 unchanged" in second.output
    assert _count(LessonRevision) == revisions


def test_dry_run_shows_changes_but_writes_nothing(app, runner, content):
    out = _sync(runner, content, "--dry-run")
    assert out.exit_code == 0, out.output
    assert "dry run" in out.output and "course: 1 added" in out.output
    assert _count(Course) == 0 and _count(Lesson) == 0 and _count(Asset) == 0


def test_any_error_means_nothing_is_applied_and_the_error_names_file_and_line(app, runner, content):
    good = content / "second-course"
    shutil.copytree(content / "rights-basics", good)
    manifest = good / "course.yaml"
    manifest.write_text(manifest.read_text().replace("key: rights-basics", "key: second-course"))
    (content / LESSON).write_text("---\nkey: udhr\ntitle: Tuyên ngôn\nminutes: lots\n---\nText\n")
    out = _sync(runner, content)
    assert out.exit_code == 1
    assert f"{LESSON}:4: minutes must be a whole number" in out.output
    assert "nothing was synced" in out.output
    assert _count(Course) == 0


def test_a_missing_file_is_reported_and_blocks_the_sync(app, runner, content):
    (content / "rights-basics/files/handout.pdf").unlink()
    out = _sync(runner, content)
    assert out.exit_code == 1
    assert "rights-basics/vi/02-udhr.md" in out.output and "handout.pdf" in out.output
    assert _count(Course) == 0


def test_duplicate_lesson_keys_are_refused(app, runner, content):
    text = (content / "rights-basics/vi/01-what-are-rights.md").read_text()
    (content / "rights-basics/vi/09-copy.md").write_text(text)
    out = _sync(runner, content)
    assert out.exit_code == 1
    assert "lesson key 'what-are-rights' is also used by" in out.output
    assert _count(Lesson) == 0


def test_duplicate_course_keys_are_refused(app, runner, content):
    shutil.copytree(content / "rights-basics", content / "rights-copy")
    out = _sync(runner, content)
    assert out.exit_code == 1
    assert "course key 'rights-basics' is also used by" in out.output


def test_editing_a_lesson_keeps_progress_and_makes_a_revision(app, runner, content):
    assert _sync(runner, content).exit_code == 0
    course = db.session.scalar(select(Course).where(Course.key == "rights-basics"))
    course.published = True
    lesson = db.session.scalar(select(Lesson).where(Lesson.key == "udhr"))
    officer = factories.user()
    progress.enrol(officer, course)
    progress.complete_lesson(officer, lesson, course, "vi")
    db.session.commit()
    lesson_id, revision = lesson.id, lesson.revision

    path = content / LESSON
    path.write_text(path.read_text().replace("tại Paris", "tại Paris, Pháp"))
    out = _sync(runner, content)
    assert "changed   lesson   rights-basics/udhr" in out.output
    db.session.expire_all()
    lesson = db.session.get(Lesson, lesson_id)
    assert lesson.revision == revision + 1
    assert "Paris, Pháp" in lesson.text("vi").body_html
    assert db.session.get(LessonProgress, (officer.id, lesson_id)) is not None


def test_renaming_a_lesson_file_is_not_a_new_lesson(app, runner, content):
    assert _sync(runner, content).exit_code == 0
    ids = set(db.session.scalars(select(Lesson.id)))
    (content / LESSON).rename(content / "rights-basics/vi/20-renamed.md")
    out = _sync(runner, content)
    assert out.exit_code == 0, out.output
    assert "lesson: 3 unchanged" in out.output
    assert set(db.session.scalars(select(Lesson.id))) == ids


def test_removing_a_lesson_archives_it(app, runner, content):
    assert _sync(runner, content).exit_code == 0
    manifest = content / "rights-basics/course.yaml"
    manifest.write_text(manifest.read_text().replace("lessons: [what-are-rights, udhr]", "lessons: [what-are-rights]"))
    (content / LESSON).unlink()
    (content / "rights-basics/en/02-udhr.md").unlink()
    # The handout was only used by the removed lesson: it is now an unused file (a warning only).
    out = _sync(runner, content)
    assert out.exit_code == 0, out.output
    assert "archived  lesson   rights-basics/udhr" in out.output
    lesson = db.session.scalar(select(Lesson).where(Lesson.key == "udhr"))
    assert lesson is not None and lesson.archived_at is not None
    assert _count(LessonText) == 6  # the texts stay, with the archived lesson


def test_a_course_owned_by_the_web_is_skipped_with_the_reason(app, runner, content):
    assert _sync(runner, content).exit_code == 0
    course = db.session.scalar(select(Course).where(Course.key == "rights-basics"))
    course.source = "web"
    lesson = db.session.scalar(select(Lesson).where(Lesson.key == "udhr"))
    lesson.text("vi").body_md = "Sửa trên web"
    db.session.commit()
    (content / LESSON).write_text((content / LESSON).read_text() + "\nThêm một dòng.\n")
    out = _sync(runner, content)
    assert out.exit_code == 0
    assert "skipped   course   rights-basics (edited on the web" in out.output
    db.session.expire_all()
    assert db.session.scalar(select(Lesson).where(Lesson.key == "udhr")).text("vi").body_md == "Sửa trên web"


def test_handing_a_course_back_lets_the_files_win_again(app, runner, content):
    assert _sync(runner, content).exit_code == 0
    course = db.session.scalar(select(Course).where(Course.key == "rights-basics"))
    course.source = "web"
    db.session.commit()
    assert runner.invoke(args=["content", "hand-back", "rights-basics"]).exit_code == 0
    out = _sync(runner, content)
    assert "skipped" not in out.output


def test_a_lesson_full_of_xss_payloads_is_rendered_harmless(app, client, auth, runner, content):
    payloads = "\n\n".join([
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<iframe src="https://evil.example"></iframe>',
        '<svg onload="alert(1)"><circle/></svg>',
        '<div style="background:url(javascript:alert(1))" onclick="alert(1)">box</div>',
        "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<form action="https://evil.example"><input name="password"></form>',
        '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    ])
    path = content / LESSON
    head = path.read_text().split("---\n")
    path.write_text(f"---\n{head[1]}---\n{payloads}\n\n[doc](files/handout.pdf)\n")
    assert _sync(runner, content, "--publish-new").exit_code == 0
    factories.user("reader")
    auth.login("reader")
    page = client.get("/catalog/c/rights-basics/udhr").get_data(as_text=True)
    body = page.split('class="lesson-body">', 1)[1].split("</article>", 1)[0]
    lowered = body.lower()
    for bad in ("<script", "onerror=", "onload=", "onclick=", "<iframe", "<svg", "<form", "<meta",
                "style="):
        assert bad not in lowered, bad
    # A refused link stays visible as plain text; no attribute may carry a javascript: URL.
    assert not re.search(r"(href|src)\s*=\s*[\"']?\s*(javascript|data):", lowered)
    assert 'href="files/handout.pdf"' in body


def test_files_are_stored_in_the_database_and_updated_when_they_change(app, runner, content):
    assert _sync(runner, content).exit_code == 0
    pdf = content / "rights-basics/files/handout.pdf"
    pdf.write_bytes(pdf.read_bytes() + b"\n% changed\n")
    out = _sync(runner, content)
    assert "changed   file     rights-basics/handout.pdf" in out.output
    asset = db.session.scalar(select(Asset).where(Asset.path == "handout.pdf"))
    assert asset.data == pdf.read_bytes() and asset.content_type == "application/pdf"


def test_course_synced_receivers_run_in_the_same_transaction_and_add_report_lines(app, runner, content):
    calls = []

    def hook(course, *, loaded, report, dry_run):
        calls.append((course.key, loaded.key, dry_run, course.id is not None))
        report.add("test-extra", f"{course.key}/x", "added")

    with signals.course_synced.connected_to(hook):
        out = _sync(runner, content, "--dry-run")
    assert calls == [("rights-basics", "rights-basics", True, True)]
    assert "test-extra: 1 added" in out.output


def test_sync_refuses_a_result_with_errors(app, content):
    (content / LESSON).write_text("no front matter\n")
    result = load_content(content)
    try:
        sync_content(result, content)
    except sync_module.SyncRefused:
        pass
    else:  # pragma: no cover
        raise AssertionError("sync accepted content with errors")
    assert _count(Course) == 0
