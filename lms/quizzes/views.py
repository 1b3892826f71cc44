"""Quiz pages: officers take quizzes and review them; trainers keep banks, set quizzes and grade."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import random
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.wrappers import Response

from lms import policy
from lms.catalog.models import Course
from lms.db import utcnow
from lms.errors import show_error, undo
from lms.extensions import db
from lms.i18n import N_, _, ngettext
from lms.progress import services as progress_services
from lms.questionformat import qtypes
from lms.questionformat.gift import export_gift, parse_gift
from lms.questionformat.qtypes.content import dump_content, parse_content
from lms.questionformat.questions import (
    ParseResult,
    question_from_dict,
    question_to_dict,
)
from lms.quizzes import engine, importing, presentation, queries, services
from lms.quizzes.forms import (
    MAX_IMPORT_BYTES,
    ConfirmForm,
    GradeForm,
    ImportForm,
    QuestionForm,
    QuizDatesForm,
    QuizForm,
    format_picks,
    parse_picks,
    to_local,
    to_utc,
)
from lms.quizzes.models import Attempt, AttemptAnswer, Question, Quiz
from lms.sqlite import writes

bp = Blueprint("quizzes", __name__, url_prefix="/quizzes")


STATUS_LABELS = {
    "in_progress": N_("In progress"),
    "submitted": N_("Submitted"),
    "needs_grading": N_("Awaiting grading"),
    "graded": N_("Graded"),
}
FLAG_LABELS = {
    "too_easy": N_("Too easy"),
    "too_hard": N_("Too hard"),
    "negative_discrimination": N_("Discriminates negatively"),
}

def _ui_lang() -> str:
    return str(get_locale() or "vi")


@bp.app_template_global()
def question_type_label(name: str) -> str:
    row = qtypes.TYPES.get(name)
    return _(row.label) if row is not None else name


@bp.app_template_global()
def attempt_status_label(name: str) -> str:
    return _(STATUS_LABELS.get(name, name))


# --- officers ------------------------------------------------------------------------------------


def _quiz_or_404(course_key: str, quiz_key: str) -> Quiz:
    quiz = queries.quiz_by_keys(course_key, quiz_key)
    if quiz is None:
        abort(404)
    return quiz


def _authorize_take(quiz: Quiz) -> None:
    if not current_user.is_authenticated:
        abort(401)
    course = quiz.course
    has_access = (
        progress_services.enrollment_for(current_user, course) is not None
        or progress_services.is_assigned(current_user, course)
    )
    policy.authorize("quizzes.take", (quiz, has_access))


def _attempt_lang(quiz: Quiz) -> str:
    return quiz.course.language_for(request.values.get("lang"), current_user.locale, _ui_lang())


@bp.get("/c/<course_key>/<quiz_key>")
@writes  # an attempt left past its deadline is closed here
def quiz(course_key: str, quiz_key: str) -> str:
    quiz = _quiz_or_404(course_key, quiz_key)
    _authorize_take(quiz)
    attempts = queries.attempts_of(current_user.id, quiz.id)
    closed = [a for a in attempts if services.close_if_overdue(a) is not None]
    if closed:
        flash(_("Your time ran out on attempt %(num)s: it was submitted with the answers saved "
                "before the deadline.", num=closed[0].number), "warning")
    current = next((a for a in attempts if a.status == "in_progress"), None)
    finished = [a for a in attempts if a.finished]
    refusal = None
    limits = services.limits_for(current_user.id, quiz)
    if current is None:
        refusal = engine.start_refusal(
            utcnow(), open_at=quiz.open_at, close_at=quiz.close_at, max_attempts=limits.max_attempts,
            delay_minutes=quiz.attempt_delay_minutes, attempts_made=len(attempts),
            last_finished_at=max((a.submitted_at for a in finished if a.submitted_at), default=None),
        )
    lang = _attempt_lang(quiz)
    return render_template(
        "quizzes/quiz.html", quiz=quiz, course=quiz.course, attempts=attempts, current=current,
        refusal=refusal, refusal_text=_refusal_text(refusal), lang=lang, form=ConfirmForm(),
        question_count=_question_count(quiz), limits=limits,
    )


def _question_count(quiz: Quiz) -> int:
    return sum(1 if p.get("name") else int(p.get("count") or 0) for p in quiz.picks or [])


def _refusal_text(refusal: engine.Refusal | None) -> str:
    if refusal is None:
        return ""
    from lms.formatting import datetime_short

    return _(services.REFUSALS[refusal.code], at=datetime_short(refusal.at) if refusal.at else "")


@bp.post("/c/<course_key>/<quiz_key>/start")
def start(course_key: str, quiz_key: str) -> Response:
    quiz = _quiz_or_404(course_key, quiz_key)
    _authorize_take(quiz)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        attempt = services.start_attempt(current_user, quiz, _attempt_lang(quiz))
    except services.QuizError as err:
        show_error(err)
        return redirect(url_for("quizzes.quiz", course_key=course_key, quiz_key=quiz_key))
    return redirect(url_for("quizzes.take", attempt_id=attempt.id))


def _own_attempt_or_404(attempt_id: int) -> Attempt:
    """The signed-in officer's attempt, while they may still take its quiz: an attempt started
    before the course was unpublished, archived or unassigned cannot be answered or submitted."""
    attempt = queries.attempt_with_answers(attempt_id)
    if attempt is None:
        abort(404)
    policy.authorize("quizzes.answer", attempt)
    _authorize_take(attempt.quiz)
    return attempt


def _slot_views(attempt: Attempt) -> list[dict[str, Any]]:
    """What the take page shows per question: public view and saved form state, never the key."""
    answers = {answer.slot: answer for answer in attempt.answers}
    flags = set(attempt.flags or [])
    views = []
    number = 0
    for slot in attempt.slots:
        snapshot = slot["question"]
        answer = answers.get(slot["slot"])
        response = answer.response if answer is not None else None
        try:
            state = presentation.response_to_form(snapshot, slot["order"], response)
        except (ValueError, TypeError):
            state = None
        scored = snapshot["type"] != "description"
        if scored:
            number += 1
        views.append({
            "slot": slot["slot"], "number": number if scored else None,
            "points": slot["points"], "view": presentation.public_view(snapshot, slot["order"]),
            "widget": presentation.presenter(snapshot).widget, "state": state,
            "saved_at": answer.saved_at if answer is not None else None,
            "answered": scored and services.is_answered(response),
            "flagged": scored and slot["slot"] in flags,
        })
    return views


@bp.get("/attempts/<int:attempt_id>")
@writes  # closes the attempt if its deadline has passed
def take(attempt_id: int) -> str | Response:
    attempt = _own_attempt_or_404(attempt_id)
    if services.close_if_overdue(attempt) is not None:
        flash(_("Time is up: the attempt was submitted with the answers saved before the "
                "deadline."), "warning")
    if attempt.finished:
        return redirect(url_for("quizzes.review", attempt_id=attempt.id))
    quiz = attempt.quiz
    return render_template(
        "quizzes/take.html", attempt=attempt, quiz=quiz, course=quiz.course,
        slots=_slot_views(attempt), form=ConfirmForm(),
        seconds_left=engine.seconds_left(utcnow(), attempt.deadline),
    )


@bp.get("/attempts/<int:attempt_id>/summary")
@writes  # closes the attempt if its deadline has passed
def summary(attempt_id: int) -> str | Response:
    """Before submitting: every question with its state (answered, not answered, flagged), as saved
    on the server, and the one button that submits."""
    attempt = _own_attempt_or_404(attempt_id)
    if services.close_if_overdue(attempt) is not None:
        flash(_("Time is up: the attempt was submitted with the answers saved before the "
                "deadline."), "warning")
    if attempt.finished:
        return redirect(url_for("quizzes.review", attempt_id=attempt.id))
    quiz = attempt.quiz
    slots = [s for s in _slot_views(attempt) if s["number"]]
    return render_template(
        "quizzes/summary.html", attempt=attempt, quiz=quiz, course=quiz.course, slots=slots,
        unanswered=[s for s in slots if not s["answered"]], flagged=[s for s in slots if s["flagged"]],
        form=ConfirmForm(), seconds_left=engine.seconds_left(utcnow(), attempt.deadline),
    )


def _form_values(attempt: Attempt) -> dict[int, list[str]]:
    """Answers from a plain form post: every slot the page listed, answered or not."""
    listed = request.form.get("slots", "")
    numbers = {int(s["slot"]) for s in attempt.slots}
    values: dict[int, list[str]] = {}
    for raw in listed.split(","):
        if raw.strip().isdigit() and int(raw) in numbers:
            values[int(raw)] = request.form.getlist(f"q{int(raw)}")
    return values


def _flag_values(attempt: Attempt) -> list[int] | None:
    """The flagged slots sent with a save (None: the request did not send flags)."""
    if request.is_json:
        payload = request.get_json(silent=True)
        raw = payload.get("flags") if isinstance(payload, dict) else None
        if raw is None:
            return None
        if not isinstance(raw, list) or len(raw) > 500:
            raise services.BadAnswer(_("The answers could not be read; reload the page."))
        return [int(v) for v in raw if str(v).isdigit()]
    if request.form.get("flags_listed") != "1":
        return None
    return [int(v) for v in request.form.getlist("flags") if v.isdigit()]


def _json_values() -> dict[int, list[str]]:
    payload = request.get_json(silent=True)
    answers = payload.get("answers") if isinstance(payload, dict) else None
    if not isinstance(answers, dict):
        raise services.BadAnswer(_("The answers could not be read; reload the page."))
    values: dict[int, list[str]] = {}
    for key, raw in answers.items():
        if not str(key).isdigit():
            raise services.BadAnswer(_("The answers could not be read; reload the page."))
        items = raw if isinstance(raw, list) else [raw]
        if len(items) > 200 or not all(isinstance(v, str | int) for v in items):
            raise services.BadAnswer(_("The answers could not be read; reload the page."))
        values[int(key)] = [str(v) for v in items]
    return values


@bp.post("/attempts/<int:attempt_id>/save")
def save(attempt_id: int) -> Response | tuple[Response, int]:
    """Autosave (JSON from quiz.js) or the no-JS "Save" button (form post)."""
    attempt = _own_attempt_or_404(attempt_id)
    wants_json = request.is_json
    try:
        values = _json_values() if wants_json else _form_values(attempt)
        flags = _flag_values(attempt)
        saved = services.save_answers(attempt, values)
        if flags is not None:
            services.set_flags(attempt, flags)
    except services.QuizError as err:
        closed = isinstance(err, services.DeadlinePassed | services.AttemptClosed)
        undo(err)  # a passed deadline keeps the attempt closed with its saved answers
        if wants_json:
            return jsonify({"ok": False, "error": err.message, "slot": err.field,
                            "closed": closed,
                            "review": url_for("quizzes.review", attempt_id=attempt_id)}), (
                409 if closed else 400)
        show_error(err)
        target = "quizzes.review" if closed else "quizzes.take"
        return redirect(url_for(target, attempt_id=attempt_id))
    if wants_json:
        return jsonify({"ok": True, "saved": saved,
                        "seconds_left": engine.seconds_left(utcnow(), attempt.deadline)})
    if request.form.get("then") == "summary":
        return redirect(url_for("quizzes.summary", attempt_id=attempt_id))
    flash(_("Your answers are saved."), "success")
    return redirect(url_for("quizzes.take", attempt_id=attempt_id))


@bp.post("/attempts/<int:attempt_id>/submit")
def submit(attempt_id: int) -> Response:
    attempt = _own_attempt_or_404(attempt_id)
    try:
        outcome = services.submit_attempt(attempt, _form_values(attempt))
    except services.QuizError as err:
        show_error(err)
        return redirect(url_for("quizzes.take", attempt_id=attempt_id))
    if outcome.already:
        flash(_("This attempt had already been submitted; here is its result."), "warning")
    elif outcome.late:
        flash(_("Time was up before your last answers arrived: the attempt was submitted with the "
                "answers saved before the deadline."), "warning")
    else:
        flash(_("Your attempt is submitted."), "success")
    return redirect(url_for("quizzes.review", attempt_id=attempt_id))


@bp.get("/attempts/<int:attempt_id>/review")
@writes
def review(attempt_id: int) -> str | Response:
    attempt = queries.attempt_with_answers(attempt_id)
    if attempt is None:
        abort(404)
    policy.authorize("quizzes.view_attempt", attempt)
    services.close_if_overdue(attempt)
    quiz = attempt.quiz
    trainer = policy.can(current_user, "quizzes.manage", quiz.course)
    if not attempt.finished:
        if attempt.user_id == current_user.id:
            return redirect(url_for("quizzes.take", attempt_id=attempt.id))
        if not trainer:
            abort(403)
    show_score = trainer or quiz.review_score
    show_correct = trainer or quiz.review_correct
    show_feedback = trainer or quiz.review_feedback
    answers = {answer.slot: answer for answer in attempt.answers}
    items = []
    number = 0
    for slot in attempt.slots:
        snapshot = slot["question"]
        answer = answers.get(slot["slot"])
        scored = snapshot["type"] != "description"
        if scored:
            number += 1
        items.append({
            "slot": slot["slot"], "number": number if scored else None, "points": slot["points"],
            "name": slot["name"], "version": slot["version"], "answer": answer,
            "view": presentation.review_view(snapshot, slot["order"],
                                             answer.response if answer else None,
                                             correct=show_correct, feedback=show_feedback),
        })
    return render_template(
        "quizzes/review.html", attempt=attempt, quiz=quiz, course=quiz.course, items=items,
        show_score=show_score, show_correct=show_correct, show_feedback=show_feedback,
        trainer=trainer,
    )


# --- trainers: courses, banks, questions --------------------------------------------------------


def _course_or_404(course_id: int) -> Course:
    course = db.get_or_404(Course, course_id)
    policy.authorize("quizzes.manage", course)
    return course


def _bank_lang(course: Course) -> str:
    return course.language_for(request.values.get("lang"), _ui_lang())


@bp.get("/")
@policy.require("quizzes.manage")
def index() -> str:
    courses = list(db.session.scalars(queries.editable_courses_query(current_user)))
    return render_template("quizzes/index.html", courses=courses,
                           counts=queries.course_counts([c.id for c in courses]))


@bp.get("/courses/<int:course_id>")
def manage(course_id: int) -> str:
    course = _course_or_404(course_id)
    quizzes = queries.course_quizzes(course.id, include_archived=True)
    return render_template(
        "quizzes/manage.html", course=course, quizzes=quizzes,
        stats=queries.quiz_attempt_stats([q.id for q in quizzes]),
        sizes=queries.bank_sizes(course.id), form=ConfirmForm(),
    )


@bp.get("/courses/<int:course_id>/bank")
def bank(course_id: int) -> str:
    course = _course_or_404(course_id)
    lang = _bank_lang(course)
    args = request.args
    chosen = args.get("category", "*")
    category = None if chosen == "*" else chosen
    qtype = args.get("type") if args.get("type") in qtypes.TYPES else None
    stmt = queries.bank_query(course.id, lang, category=category, tag=args.get("tag") or None,
                              text=args.get("q", "")[:200], archived=args.get("archived") == "1",
                              qtype=qtype)
    page = db.paginate(stmt, per_page=50, error_out=False)
    return render_template(
        "quizzes/bank.html", course=course, lang=lang, page=page, args=args,
        categories=queries.bank_categories(course.id, lang), tags=queries.bank_tags(course.id, lang),
        types=qtypes.NAMES, editable=course.source == "web",
    )


def _parse_one(text: str, syntax: str = "gift") -> tuple[Any, list[str]]:
    result = parse_content(text, "question") if syntax == "yaml" else parse_gift(text, "question")
    errors = [str(error) for error in result.errors]
    if not errors and len(result.questions) != 1:
        errors.append(_("Write exactly one question (this text holds %(num)s).",
                        num=len(result.questions)))
    return (result.questions[0] if not errors else None), errors


def _with_meta(question: Any, category: str, tags: str) -> Any:
    plain = question_to_dict(question)
    plain["category"] = category.strip()
    plain["tags"] = [t.strip() for t in tags.split(",") if t.strip()]
    return question_from_dict(plain)


def _question_editor(course: Course, lang: str, row: Question | None) -> str | Response:
    form = QuestionForm()
    if request.method == "GET":
        if row is not None:
            # A type GIFT cannot say is edited in the YAML of content files (qtypes.content).
            current = question_from_dict({**row.data, "category": "", "tags": []})
            form.syntax.data = qtypes.get(current.type).source_format
            form.source.data = (dump_content([current], single=True) if form.syntax.data == "yaml"
                                else export_gift([current]))
            form.category.data = row.category
            form.tags.data = ", ".join(row.tags or [])
            form.points.data = row.points
        else:
            qtype = request.args.get("type") or "single"
            if qtype not in qtypes.TYPES:
                qtype = "single"
            form.source.data = qtypes.get(qtype).example
            form.syntax.data = qtypes.get(qtype).source_format
            form.category.data = request.args.get("category", "")
    preview = None
    errors: list[str] = []
    if form.validate_on_submit():
        question, errors = _parse_one(form.source.data or "", form.syntax.data or "gift")
        if question is not None:
            question = _with_meta(question, form.category.data or "", form.tags.data or "")
            if request.form.get("action") == "preview":
                preview = _preview(question)
            else:
                try:
                    change = services.save_question(course, lang, question, existing=row,
                                                    points=float(form.points.data or 1),
                                                    actor=current_user)
                except services.QuizError as err:
                    undo(err)
                    target = getattr(form, err.field, None) if err.field else None
                    (target.errors if target is not None else errors).append(err.message)
                else:
                    flash(_("Question %(name)s saved (version %(version)s).",
                            name=question.name, version=change.version)
                          if change.status != "unchanged" else _("Nothing changed."), "success")
                    return redirect(url_for("quizzes.bank", course_id=course.id, lang=lang))
    if form.syntax.data == "yaml":
        form.source.label.text = _("Question in YAML")
        form.source.description = _(
            "One question as in a course's YAML question file: name, type, text, then the keys of "
            "its type. The example shows them.")
    return render_template(
        "quizzes/question_form.html", course=course, lang=lang, row=row, form=form,
        preview=preview, gift_errors=errors, templates=qtypes.NAMES,
        editable=course.source == "web",
    )


def _preview(question: Any) -> dict[str, Any]:
    """A question as an officer sees it, and its review with keys and feedback, for the author."""
    snapshot = question_to_dict(question)
    order = presentation.presenter(snapshot).permute(snapshot, random.Random(1), False)
    return {
        "view": presentation.public_view(snapshot, order),
        "widget": presentation.presenter(snapshot).widget,
        "review": presentation.review_view(snapshot, order, None, correct=True, feedback=True),
        "snapshot": snapshot,
    }


@bp.route("/courses/<int:course_id>/bank/new", methods=["GET", "POST"])
def question_new(course_id: int) -> str | Response:
    course = _course_or_404(course_id)
    return _question_editor(course, _bank_lang(course), None)


@bp.route("/questions/<int:question_id>", methods=["GET", "POST"])
def question_edit(question_id: int) -> str | Response:
    row = db.get_or_404(Question, question_id)
    course = _course_or_404(row.course_id)
    return _question_editor(course, row.lang, row)


@bp.get("/questions/<int:question_id>/preview")
def question_preview(question_id: int) -> str:
    row = db.get_or_404(Question, question_id)
    course = _course_or_404(row.course_id)
    return render_template("quizzes/question_preview.html", course=course, row=row,
                           preview=_preview(question_from_dict(row.data)), form=ConfirmForm())


@bp.post("/questions/<int:question_id>/archive")
def question_archive(question_id: int) -> Response:
    row = db.get_or_404(Question, question_id)
    course = _course_or_404(row.course_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    archive = request.form.get("archived") != "0"
    try:
        services.set_question_archived(row, archive, course=course, actor=current_user)
    except services.QuizError as err:
        show_error(err)
    else:
        flash(_("Question archived: quizzes no longer draw it.") if archive
              else _("Question restored."), "success")
    return redirect(url_for("quizzes.bank", course_id=course.id, lang=row.lang))


# Questions shown in full (stem, keys, weights, feedback) on the import preview; the rest are listed.
PREVIEW_DETAIL_LIMIT = 300


@bp.route("/courses/<int:course_id>/import", methods=["GET", "POST"])
def import_questions(course_id: int) -> str | Response:
    """Upload, preview (every question as officers will see it, every error), then import."""
    course = _course_or_404(course_id)
    form = ImportForm()
    form.lang.choices = [(code, code) for code in course.languages or []]
    if request.method == "GET":
        form.lang.data = _bank_lang(course)
    result: ParseResult | None = None
    plan: services.ImportPlan | None = None
    problem = ""
    action = request.form.get("action", "preview")
    if form.validate_on_submit():
        data, filename, problem = _upload_bytes(form)
        if data is not None:
            form.data.data = base64.b64encode(data).decode("ascii")
            form.filename.data = filename
            result = importing.read_question_file(data, filename, form.fmt.data or "auto")
            category = (form.category.data or "").strip()
            if action == "bad-file" and result.errors:
                name, text = importing.bad_questions_file(result)
                response = Response(text, mimetype="text/plain; charset=utf-8")
                response.headers["Content-Disposition"] = (
                    f"attachment; filename*=UTF-8''{quote(name)}")
                return response
            if action in ("import", "import-good"):
                try:
                    report = services.import_questions(
                        course, form.lang.data or "", result, actor=current_user,
                        default_category=category, skip_invalid=action == "import-good",
                        on_conflict=form.on_conflict.data or None,
                    )
                except services.QuizError as err:
                    undo(err)
                    problem = err.message
                else:
                    flash(_("Import done: %(summary)s.", summary=report.summary()), "success")
                    return redirect(url_for("quizzes.bank", course_id=course.id,
                                            lang=form.lang.data))
            if result.questions and form.lang.data in (course.languages or []):
                plan = services.plan_import(course, form.lang.data or "", result, category)
    details = []
    if plan is not None:
        for item in plan.items[:PREVIEW_DETAIL_LIMIT]:
            details.append(_preview(item.question))
    summary = importing.summarise_errors(result.errors) if result else None
    return render_template("quizzes/import.html", course=course, form=form, result=result,
                           plan=plan, details=details, summary=summary, problem=problem,
                           detail_limit=PREVIEW_DETAIL_LIMIT, editable=course.source == "web")


def _upload_bytes(form: ImportForm) -> tuple[bytes | None, str, str]:
    """The uploaded file (or the one carried from the preview) and its name, or why not."""
    too_big = _("The file is larger than 2 MB; split it into several files.")
    upload = form.file.data
    if upload and getattr(upload, "filename", ""):
        data = upload.read(MAX_IMPORT_BYTES + 1)
        if len(data) > MAX_IMPORT_BYTES:
            return None, "", too_big
        return data, upload.filename, ""
    if form.data.data:
        try:
            data = base64.b64decode(form.data.data, validate=True)
        except (ValueError, binascii.Error):
            return None, "", _("Choose a file to import.")
        if len(data) > MAX_IMPORT_BYTES:
            return None, "", too_big
        return data, form.filename.data or "upload", ""
    return None, "", _("Choose a file to import.")


@bp.get("/courses/<int:course_id>/export.xml")
def export_xml(course_id: int) -> Response:
    """The live bank as Moodle XML (images, points, tags and feedback included)."""
    course = _course_or_404(course_id)
    lang = _bank_lang(course)
    text, _count, skipped = services.export_bank(course, lang, "xml")
    response = Response(text, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{course.key}-{lang}.xml"'
    return response


@bp.get("/courses/<int:course_id>/export.gift")
def export(course_id: int) -> Response:
    course = _course_or_404(course_id)
    lang = _bank_lang(course)
    text, _count, skipped = services.export_bank(course, lang, "gift")
    if skipped:
        flash(ngettext(
            "%(num)s question left out of the GIFT file: GIFT has no syntax for its type (%(names)s).",
            "%(num)s questions left out of the GIFT file: GIFT has no syntax for their type (%(names)s).",
            len(skipped), names=", ".join(name for name, _why in skipped)),
            "warning")
    response = Response(text, mimetype="text/plain")
    response.headers["Content-Disposition"] = f'attachment; filename="{course.key}-{lang}.gift"'
    return response


# --- trainers: quizzes ---------------------------------------------------------------------------


def _quiz_form(course: Course, quiz: Quiz | None) -> QuizForm:
    form = QuizForm()
    form.module_key.choices = [("", _("(none)"))] + [
        (m.key, m.title_in(_ui_lang(), course.original_language)) for m in course.modules
        if not m.archived
    ]
    if request.method == "GET" and quiz is not None:
        form.key.data = quiz.key
        form.title_vi.data = (quiz.title or {}).get("vi", "")
        form.title_en.data = (quiz.title or {}).get("en", "")
        form.picks.data = format_picks(quiz.picks or [])
        for name in ("pass_mark", "time_limit_minutes", "max_attempts", "attempt_delay_minutes",
                     "shuffle_choices", "review_score", "review_correct", "review_feedback",
                     "final", "questions_per_page"):
            getattr(form, name).data = getattr(quiz, name)
        form.module_key.data = quiz.module_key or ""
        form.open_at.data = to_local(quiz.open_at)
        form.close_at.data = to_local(quiz.close_at)
    return form


def _settings(form: QuizForm) -> services.QuizSettings:
    title = {lang: value.strip() for lang, value in
             (("vi", form.title_vi.data or ""), ("en", form.title_en.data or "")) if value.strip()}
    return services.QuizSettings(
        title=title, picks=parse_picks(form.picks.data or ""), pass_mark=form.pass_mark.data or 0,
        time_limit_minutes=form.time_limit_minutes.data or None,
        max_attempts=form.max_attempts.data or None,
        attempt_delay_minutes=form.attempt_delay_minutes.data or 0,
        shuffle_choices=bool(form.shuffle_choices.data), review_score=bool(form.review_score.data),
        review_correct=bool(form.review_correct.data),
        review_feedback=bool(form.review_feedback.data), final=bool(form.final.data),
        module_key=form.module_key.data or None, open_at=to_utc(form.open_at.data),
        questions_per_page=5 if form.questions_per_page.data is None else form.questions_per_page.data,
        close_at=to_utc(form.close_at.data),
    )


def _quiz_editor(course: Course, quiz: Quiz | None) -> str | Response:
    if quiz is not None and course.source != "web":
        return _quiz_dates_editor(course, quiz)
    form = _quiz_form(course, quiz)
    if form.validate_on_submit():
        key = quiz.key if quiz is not None else (form.key.data or "")
        if not key:
            form.key.errors.append(_("Give the quiz a key."))
        else:
            try:
                saved = services.save_quiz(course, quiz, key, _settings(form), actor=current_user)
            except services.QuizError as err:
                show_error(err, form)
            else:
                flash(_("Quiz settings saved."), "success")
                return redirect(url_for("quizzes.manage", course_id=course.id,
                                        _anchor=f"quiz-{saved.id}"))
    return render_template("quizzes/quiz_form.html", course=course, quiz=quiz, form=form,
                           files_owned=False)


def _quiz_dates_editor(course: Course, quiz: Quiz) -> str | Response:
    form = QuizDatesForm()
    if request.method == "GET":
        form.open_at.data = to_local(quiz.open_at)
        form.close_at.data = to_local(quiz.close_at)
    if form.validate_on_submit():
        try:
            services.set_quiz_dates(quiz, to_utc(form.open_at.data), to_utc(form.close_at.data),
                                    actor=current_user)
        except services.QuizError as err:
            show_error(err, form, field="close_at")
        else:
            flash(_("Quiz settings saved."), "success")
            return redirect(url_for("quizzes.manage", course_id=course.id, _anchor=f"quiz-{quiz.id}"))
    return render_template("quizzes/quiz_form.html", course=course, quiz=quiz, form=form,
                           files_owned=True, picks=format_picks(quiz.picks or []))


@bp.route("/courses/<int:course_id>/quizzes/new", methods=["GET", "POST"])
def quiz_new(course_id: int) -> str | Response:
    course = _course_or_404(course_id)
    return _quiz_editor(course, None)


def _managed_quiz_or_404(quiz_id: int) -> Quiz:
    quiz = db.get_or_404(Quiz, quiz_id)
    policy.authorize("quizzes.manage", quiz.course)
    return quiz


@bp.route("/<int:quiz_id>/settings", methods=["GET", "POST"])
def quiz_settings(quiz_id: int) -> str | Response:
    quiz = _managed_quiz_or_404(quiz_id)
    return _quiz_editor(quiz.course, quiz)


@bp.get("/<int:quiz_id>/attempts")
def attempts(quiz_id: int) -> str:
    quiz = _managed_quiz_or_404(quiz_id)
    status = request.args.get("status") if request.args.get("status") in STATUS_LABELS else None
    page = db.paginate(queries.attempts_overview_query(quiz.id, status), per_page=50,
                       error_out=False)
    return render_template(
        "quizzes/attempts.html", quiz=quiz, course=quiz.course, page=page, args=request.args,
        stats=queries.quiz_attempt_stats([quiz.id]).get(quiz.id, {}), statuses=STATUS_LABELS,
        stale=queries.stale_question_count(quiz.id), form=ConfirmForm(),
    )


@bp.get("/<int:quiz_id>/analysis")
def analysis(quiz_id: int) -> str:
    quiz = _managed_quiz_or_404(quiz_id)
    observations = []
    attempts = queries.analysis_attempts(quiz.id)
    # Language editions of a question share its name but are different texts (and translations
    # mislead differently): with more than one edition, each is analysed on its own.
    several = len({attempt.lang for attempt in attempts}) > 1

    def item_name(slot: dict[str, Any], lang: str) -> str:
        return f"{slot['name']} [{lang}]" if several else str(slot["name"])

    for attempt in attempts:
        answers = {answer.slot: answer for answer in attempt.answers}
        row = []
        for slot in attempt.slots:
            answer = answers.get(slot["slot"])
            if answer is None:
                continue
            obs = engine.observation(slot, answer.response, answer.final_fraction)
            if obs is not None:
                row.append(dataclasses.replace(obs, name=item_name(slot, attempt.lang)))
        observations.append(row)
    stats = engine.item_analysis(observations)
    titles: dict[str, str] = {}
    for attempt in attempts:  # newest first: the latest text of each question
        for slot in attempt.slots:
            titles.setdefault(item_name(slot, attempt.lang), slot["question"].get("text", ""))
    return render_template("quizzes/analysis.html", quiz=quiz, course=quiz.course, stats=stats,
                           attempts=len(attempts), titles=titles, flags=FLAG_LABELS,
                           form=ConfirmForm())


@bp.post("/<int:quiz_id>/regrade")
def regrade(quiz_id: int) -> Response:
    quiz = _managed_quiz_or_404(quiz_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    report = services.regrade_quiz(quiz, actor=current_user)
    flash(_("Regraded %(attempts)s attempts: %(slots)s answers now use the current question, "
            "%(changed)s scores changed.", attempts=report.attempts, slots=report.updated_slots,
            changed=report.changed_scores), "success")
    if report.incompatible:
        flash(_("These questions changed shape (type or number of answers), so their old answers "
                "were graded by the version they were taken with: %(names)s.",
                names=", ".join(report.incompatible)), "warning")
    if report.in_progress:
        flash(_("%(num)s attempts are still in progress; regrade again once they are submitted.",
                num=report.in_progress), "warning")
    return redirect(url_for("quizzes.attempts", quiz_id=quiz.id))


# --- trainers: grading ---------------------------------------------------------------------------


@bp.get("/grading")
@policy.require("quizzes.manage")
def grading() -> str:
    page = db.paginate(queries.grading_queue_query(current_user), per_page=50, error_out=False)
    return render_template("quizzes/grading.html", page=page, args=request.args)


@bp.route("/answers/<int:answer_id>/grade", methods=["GET", "POST"])
def grade(answer_id: int) -> str | Response:
    answer = db.get_or_404(AttemptAnswer, answer_id)
    attempt = answer.attempt
    quiz = attempt.quiz
    policy.authorize("quizzes.manage", quiz.course)
    slot = next((s for s in attempt.slots if s["slot"] == answer.slot), None)
    if slot is None:
        abort(404)
    points = float(slot["points"])
    form = GradeForm()
    if request.method == "GET" and answer.manual_fraction is not None:
        form.points.data = round(answer.manual_fraction * points, 2)
        form.comment.data = answer.comment
    if form.validate_on_submit():
        awarded = float(form.points.data)
        if not 0 <= awarded <= points:
            form.points.errors.append(_("Give between 0 and %(max)s points.", max=f"{points:g}"))
        else:
            try:
                services.grade_answer(answer, awarded / points if points else 0.0,
                                      form.comment.data or "", grader=current_user)
            except services.QuizError as err:
                show_error(err, form, field="points")
            else:
                flash(_("Grade saved."), "success")
                return redirect(url_for("quizzes.grading"))
    view = presentation.review_view(slot["question"], slot["order"], answer.response,
                                    correct=True, feedback=True)
    return render_template("quizzes/grade.html", answer=answer, attempt=attempt, quiz=quiz,
                           course=quiz.course, slot=slot, view=view, form=form, points=points)


@bp.app_template_filter("json_attr")
def json_attr(value: Any) -> str:
    """JSON for a data- attribute (the template escapes it)."""
    return json.dumps(value, ensure_ascii=False)
