"""The catalogue, course and lesson pages, course files, and the trainers' course editor."""

from __future__ import annotations

from io import BytesIO

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
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from lms import formatting, policy
from lms.catalog import loader, queries, services
from lms.catalog.forms import (
    TOPIC_LABELS,
    CompletionForm,
    ConfirmForm,
    CourseEditForm,
    CourseForm,
    LessonForm,
    ModuleForm,
    UploadForm,
)
from lms.catalog.learners import learners
from lms.catalog.models import Course, Lesson, Module
from lms.errors import show_error, undo
from lms.extensions import db
from lms.i18n import _, ngettext
from lms.markup import asset_names
from lms.sqlite import writes

bp = Blueprint("catalog", __name__, url_prefix="/catalog")



def _ui_lang() -> str:
    return str(get_locale() or "vi")


def _course_or_404(key: str) -> Course:
    course = queries.course_by_key(key)
    if course is None:
        abort(404)
    return course


def _reading_lang(course: Course) -> str:
    return course.language_for(request.args.get("lang"), getattr(current_user, "locale", None), _ui_lang())


@bp.app_template_global()
def language_name(code: str) -> str:
    return loader.language_name(code)


@bp.app_template_global()
def hours_label(hours: float) -> str:
    """"6 hours", "1,5 hours" (numbers in the reader's locale)."""
    shown = formatting.number(hours, 0 if float(hours).is_integer() else 1)
    return ngettext("%(hours)s hour", "%(hours)s hours", 1 if hours == 1 else 2, hours=shown)


@bp.app_template_global()
def topic_label(topic: str) -> str:
    return str(TOPIC_LABELS.get(topic, topic))


# Officers: catalogue, course, lesson, files ------------------------------------------------------


@bp.get("/")
@policy.require("catalog.browse")
def index() -> str:
    args = request.args
    topic = args.get("topic") if args.get("topic") in loader.TOPICS else None
    languages = queries.catalogue_languages()
    lang = args.get("lang") if args.get("lang") in languages else None
    hours = args.get("hours") if args.get("hours") in queries.HOURS_BUCKETS else None
    stmt = queries.catalogue_query(
        text=args.get("q", "")[:200], topic=topic, lang=lang, hours=hours,
        prefer_lang=current_user.locale or _ui_lang(),
    )  # fmt: skip
    page = db.paginate(stmt, per_page=24, error_out=False)
    ids = [course.id for course in page.items]
    return render_template(
        "catalog/index.html", page=page, args=args, languages=languages,
        progress=learners().catalogue_progress(current_user, ids),
        totals=learners().lesson_counts(ids), topics=TOPIC_LABELS,
        me_lang=current_user.locale or _ui_lang(),
    )  # fmt: skip


@bp.get("/c/<key>")
def course(key: str) -> str:
    course = _course_or_404(key)
    policy.authorize("catalog.view_course", course)
    lang = _reading_lang(course)
    outline = queries.course_outline(course, lang)
    state = learners().course_state(current_user, course)
    lessons = outline.lessons
    done = [lesson for lesson in lessons if lesson.id in state.done_lesson_ids]
    resume = None
    if state.enrollment is not None and state.enrollment.last_lesson_id:
        resume = next((le for le in lessons if le.id == state.enrollment.last_lesson_id), None)
    next_lesson = next((le for le in lessons if le.id not in state.done_lesson_ids), None)
    return render_template(
        "catalog/course.html", course=course, lang=lang, outline=outline, state=state,
        done_count=len(done), total=len(lessons), resume=resume, next_lesson=next_lesson,
        may_enrol=policy.can(current_user, "progress.enrol", (course, state.assigned is not None)),
        may_read=policy.can(current_user, "catalog.read_lessons", (course, state.has_access)),
        form=ConfirmForm(),
        missing=learners().missing_requirements(course, state, lessons, lang) if state.has_access else [],
    )  # fmt: skip


@bp.get("/c/<key>/<lesson_key>")
@writes
def lesson(key: str, lesson_key: str) -> str:
    course = _course_or_404(key)
    policy.authorize("catalog.view_course", course)
    lesson = queries.lesson_by_key(course, lesson_key)
    if lesson is None:
        abort(404)
    state = learners().course_state(current_user, course)
    policy.authorize("catalog.read_lessons", (course, state.has_access))
    if lesson.archived_at is not None and not policy.can(current_user, "catalog.edit_course", course):
        abort(404)
    lang = _reading_lang(course)
    text = queries.lesson_text(lesson, lang, course.original_language)
    if text is None:
        abort(404)
    outline = queries.course_outline(course, lang)
    before, after = outline.neighbours(lesson.id)
    module = next((m for m in outline.modules if m.module.id == lesson.module_id), None)
    learners().lesson_opened(current_user, course, lesson, state)
    names = list(asset_names(text.body_md))
    position = next((i for i, le in enumerate(outline.lessons, 1) if le.id == lesson.id), None)
    page = render_template(
        "catalog/lesson.html", course=course, lesson=lesson, text=text, lang=lang, state=state,
        before=before, after=after, module=module, attachments=queries.assets_named(course, names),
        languages=queries.lesson_languages(lesson), position=position, total=len(outline.lessons),
        may_enrol=policy.can(current_user, "progress.enrol", (course, state.assigned is not None)),
        form=ConfirmForm(),
    )  # fmt: skip
    # The boundary commits after the page is rendered: a commit expires every loaded row.
    return page


@bp.get("/c/<key>/files/<path:name>")
def asset(key: str, name: str) -> Response:
    course = _course_or_404(key)
    policy.authorize("catalog.view_course", course)
    # A lesson's files are as private as the lesson: the outline alone is public to officers.
    has_access = course.open or learners().has_access(current_user, course)
    policy.authorize("catalog.read_lessons", (course, has_access))
    row = queries.asset_with_data(course, name)
    if row is None:
        abort(404)
    etag = row.sha256
    response = Response(
        wrap_file(request.environ, BytesIO(row.data)), mimetype=row.content_type, direct_passthrough=True
    )
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, max-age=86400"
    filename = name.rsplit("/", 1)[-1]
    inline = row.content_type.startswith(("image/", "audio/", "video/")) or row.content_type == "application/pdf"
    response.headers.set("Content-Disposition", "inline" if inline else "attachment", filename=filename)
    # A course file is never a page: nothing in it may run or be framed.
    # (Browsers' PDF viewers do not work in a sandbox, so PDFs only get the restrictive default.)
    sandbox = "" if row.content_type == "application/pdf" else "; sandbox"
    response.headers["Content-Security-Policy"] = "default-src 'none'" + sandbox
    return response.make_conditional(request, accept_ranges=True, complete_length=row.size)


# Trainers: the course editor -------------------------------------------------------------------


def _editable(key: str) -> Course:
    course = _course_or_404(key)
    policy.authorize("catalog.edit_course", course)
    return course


@bp.get("/author")
@policy.require("catalog.author")
def author() -> str:
    return render_template("catalog/author.html", courses=queries.editable_courses(current_user))


@bp.route("/author/new", methods=["GET", "POST"])
@policy.require("catalog.author")
def course_new() -> str | Response:
    form = CourseForm()
    if request.method == "GET":
        form.languages.data = "vi"
        form.hours.data = 2
    if form.validate_on_submit():
        try:
            course = services.create_course(
                key=form.key.data or "", title=form.title.data or "", summary=form.summary.data or "",
                languages=form.languages.data or "", topic=form.topic.data or "other",
                hours=float(form.hours.data) if form.hours.data is not None else None,
                open_=bool(form.open.data), actor=current_user,
            )  # fmt: skip
        except services.CatalogError as err:
            show_error(err, form, field="key")
        else:
            flash(_("Course created. Add its lessons, then publish it."), "success")
            return redirect(url_for("catalog.course_edit", key=course.key))
    return render_template("catalog/course_new.html", form=form)


@bp.route("/author/<key>", methods=["GET", "POST"])
def course_edit(key: str) -> str | Response:
    course = _editable(key)
    lang = course.language_for(request.args.get("lang"), _ui_lang())
    form = CourseEditForm(obj=None if request.method == "POST" else course)
    if request.method == "GET":
        form.title.data = course.title.get(lang, "")
        form.summary.data = course.summary.get(lang, "")
        form.languages.data = ", ".join(course.languages)
        form.hours.data = course.hours
    if course.source == "web" and form.validate_on_submit():
        try:
            services.update_course(
                course, lang=lang, title=form.title.data or "", summary=form.summary.data or "",
                languages=form.languages.data or "", topic=form.topic.data or "other",
                hours=float(form.hours.data) if form.hours.data is not None else None,
                open_=bool(form.open.data), actor=current_user,
            )  # fmt: skip
        except services.CatalogError as err:
            show_error(err, form, field="title")
        else:
            flash(_("Course saved."), "success")
            return redirect(url_for("catalog.course_edit", key=course.key, lang=lang))
    lessons = queries.all_lessons(course)
    by_module: dict[int, list[Lesson]] = {}
    for lesson in lessons:
        by_module.setdefault(lesson.module_id, []).append(lesson)
    modules = [m for m in course.modules if not m.archived]
    return render_template(
        "catalog/course_edit.html", course=course, form=form, lang=lang, modules=modules,
        by_module=by_module, module_form=ModuleForm(), upload_form=UploadForm(),
        confirm=ConfirmForm(), assets=queries.course_assets(course),
    )  # fmt: skip


@bp.route("/author/<key>/completion", methods=["GET", "POST"])
def course_completion(key: str) -> str | Response:
    """What completes the course and what completing it gives (files: read-only, from course.yaml)."""
    course = _editable(key)
    lang = course.language_for(request.args.get("lang"), _ui_lang())
    lessons = [le for le in queries.all_lessons(course) if le.archived_at is None]
    form = CompletionForm()
    titles = {le.key: getattr(le.text(lang) or le.text(course.original_language), "title", le.key)
              for le in lessons}
    form.lessons.choices = [(le.key, titles[le.key]) for le in lessons]
    form.quizzes.choices = [
        (q["key"], _("%(title)s (pass mark %(mark)s%%)", title=(q.get("title") or {}).get(lang)
                     or (q.get("title") or {}).get(course.original_language) or q["key"], mark=q.get("pass_mark")))
        for q in course.quizzes or []
    ]
    rule, certificate = course.completion or {}, course.certificate or {}
    if request.method == "GET":
        form.lessons_all.data = rule.get("lessons", "all") == "all"
        form.lessons.data = [] if form.lessons_all.data else list(rule.get("lessons") or [])
        form.quizzes_all.data = rule.get("quizzes") == "all"
        form.quizzes.data = [] if form.quizzes_all.data else list(rule.get("quizzes") or [])
        form.min_final_score.data = rule.get("min_final_score")
        form.certificate.data = bool(certificate.get("enabled"))
        form.validity_months.data = certificate.get("validity_months")
        form.issuer.data = (certificate.get("issuer") or {}).get(lang, "")
        form.signer_name.data = certificate.get("signer_name") or ""
        form.signer_title.data = (certificate.get("signer_title") or {}).get(lang, "")
    if course.source == "web" and form.validate_on_submit():
        settings = services.CompletionSettings(
            lessons=None if form.lessons_all.data else list(form.lessons.data or []),
            quizzes=None if form.quizzes_all.data else list(form.quizzes.data or []),
            min_final_score=form.min_final_score.data, certificate=bool(form.certificate.data),
            validity_months=form.validity_months.data, issuer=form.issuer.data or "",
            signer_name=form.signer_name.data or "", signer_title=form.signer_title.data or "", lang=lang,
        )  # fmt: skip
        try:
            counts = services.set_completion_rule(course, settings, actor=current_user)
        except services.CatalogError as err:
            show_error(err, form, field="lessons")
        else:
            flash(_("Completion rule saved. %(completed)s of %(evaluated)s officers still working on the "
                    "course meet it now; %(kept)s completions (and their certificates) made earlier stay.",
                    completed=counts.get("completed", 0), evaluated=counts.get("evaluated", 0),
                    kept=counts.get("kept", 0)), "success")
            return redirect(url_for("catalog.course_completion", key=course.key, lang=lang))
    return render_template(
        "catalog/course_completion.html", course=course, form=form, lang=lang, lesson_titles=titles,
        required_quizzes=learners().required_quiz_keys(course),
        required_lessons={le.key for le in lessons} if rule.get("lessons", "all") == "all"
        else set(rule.get("lessons") or []),
    )  # fmt: skip


@bp.post("/author/<key>/publish")
def publish(key: str) -> Response:
    course = _editable(key)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    wanted = request.form.get("published") == "1"
    try:
        services.set_published(course, wanted, actor=current_user)
    except services.CatalogError as err:
        show_error(err)
    else:
        flash(_("Course published: officers can find it now.") if wanted
              else _("Course hidden from officers; their progress is kept."), "success")
    return redirect(url_for("catalog.course_edit", key=course.key))


@bp.post("/author/<key>/take-over")
def take_over(key: str) -> Response:
    course = _editable(key)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.take_over(course, actor=current_user)
    flash(_("The course is now edited on the web; content sync will skip it."), "success")
    return redirect(url_for("catalog.course_edit", key=course.key))


@bp.post("/author/<key>/modules")
def module_add(key: str) -> Response:
    course = _editable(key)
    form = ModuleForm()
    lang = course.language_for(request.args.get("lang"), _ui_lang())
    if not form.validate_on_submit():
        flash(_("Give the module a title."), "error")
        return redirect(url_for("catalog.course_edit", key=course.key, lang=lang))
    try:
        services.add_module(course, title=form.title.data or "", lang=lang, actor=current_user)
    except services.CatalogError as err:
        show_error(err)
    else:
        flash(_("Module added."), "success")
    return redirect(url_for("catalog.course_edit", key=course.key, lang=lang))


def _module(course: Course, module_key: str) -> Module:
    module = next((m for m in course.modules if m.key == module_key and not m.archived), None)
    if module is None:
        abort(404)
    return module


@bp.post("/author/<key>/modules/<module_key>")
def module_rename(key: str, module_key: str) -> Response:
    course = _editable(key)
    module = _module(course, module_key)
    lang = course.language_for(request.args.get("lang"), _ui_lang())
    form = ModuleForm()
    if not form.validate_on_submit():
        flash(_("Give the module a title."), "error")
    else:
        try:
            services.rename_module(module, title=form.title.data or "", lang=lang, actor=current_user)
        except services.CatalogError as err:
            show_error(err)
        else:
            flash(_("Module renamed."), "success")
    return redirect(url_for("catalog.course_edit", key=course.key, lang=lang))


@bp.post("/author/<key>/move")
def move(key: str) -> Response:
    course = _editable(key)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    delta = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    item = request.form.get("item", "")
    if delta is None:
        abort(400)
    try:
        if request.form.get("kind") == "module":
            services.move_module(_module(course, item), delta, actor=current_user)
        else:
            lesson = queries.lesson_by_key(course, item)
            if lesson is None or lesson.archived_at is not None:
                abort(404)
            services.move_lesson(lesson, course, delta, actor=current_user)
    except services.CatalogError as err:
        show_error(err)
    return redirect(url_for("catalog.course_edit", key=course.key, lang=request.args.get("lang")))


def _lesson_form(course: Course, lang: str) -> LessonForm:
    form = LessonForm()
    form.module_key.choices = [
        (m.key, m.title_in(lang, course.original_language)) for m in course.modules if not m.archived
    ]
    return form


@bp.route("/author/<key>/lessons/new", methods=["GET", "POST"])
def lesson_new(key: str) -> str | Response:
    course = _editable(key)
    lang = course.original_language
    form = _lesson_form(course, lang)
    if request.method == "GET":
        form.module_key.data = request.args.get("module") or (form.module_key.choices or [("", "")])[0][0]
        form.minutes.data = 10
    if course.source == "web" and form.validate_on_submit():
        module = _module(course, form.module_key.data or "")
        try:
            lesson = services.add_lesson(
                course, module, key=form.key.data or "", title=form.title.data or "",
                minutes=form.minutes.data, body=form.body.data or "", lang=lang, actor=current_user,
            )  # fmt: skip
        except services.CatalogError as err:
            show_error(err, form, field="body")
        else:
            flash(_("Lesson saved (revision %(num)s).", num=lesson.revision), "success")
            return redirect(url_for("catalog.lesson_edit", key=course.key, lesson_key=lesson.key, lang=lang))
    return render_template("catalog/lesson_edit.html", course=course, lesson=None, form=form, lang=lang,
                           revisions=[], confirm=ConfirmForm())


@bp.route("/author/<key>/lessons/<lesson_key>", methods=["GET", "POST"])
def lesson_edit(key: str, lesson_key: str) -> str | Response:
    course = _editable(key)
    lesson = queries.lesson_by_key(course, lesson_key)
    if lesson is None or lesson.archived_at is not None:
        abort(404)
    lang = course.language_for(request.args.get("lang"), _ui_lang())
    form = _lesson_form(course, lang)
    text = lesson.text(lang)
    if request.method == "GET":
        form.key.data = lesson.key
        form.module_key.data = next((m.key for m in course.modules if m.id == lesson.module_id), "")
        if text is not None:
            form.title.data, form.minutes.data, form.body.data = text.title, text.minutes, text.body_md
        else:
            original = lesson.text(course.original_language)
            form.minutes.data = original.minutes if original else lesson.minutes
    if course.source == "web" and form.validate_on_submit():
        try:
            target = _module(course, form.module_key.data or "")
            if target.id != lesson.module_id:
                lesson.module_id = target.id
                lesson.position = 100_000
                services.renumber(course)
            revision = services.save_lesson_text(
                lesson, course, lang=lang, title=form.title.data or "", minutes=form.minutes.data,
                body=form.body.data or "", actor=current_user,
            )  # fmt: skip
        except services.CatalogError as err:
            show_error(err, form, field="body")
        else:
            flash(_("Lesson saved (revision %(num)s).", num=revision.revision), "success")
            return redirect(url_for("catalog.lesson_edit", key=course.key, lesson_key=lesson.key, lang=lang))
    return render_template(
        "catalog/lesson_edit.html", course=course, lesson=lesson, form=form, lang=lang,
        revisions=queries.lesson_revisions(lesson), confirm=ConfirmForm(),
    )  # fmt: skip


@bp.post("/author/<key>/lessons/<lesson_key>/archive")
def lesson_archive(key: str, lesson_key: str) -> Response:
    course = _editable(key)
    lesson = queries.lesson_by_key(course, lesson_key)
    if lesson is None or not ConfirmForm().validate_on_submit():
        abort(404 if lesson is None else 400)
    try:
        services.archive_lesson(lesson, course, actor=current_user)
    except services.CatalogError as err:
        show_error(err)
    else:
        flash(_("Lesson removed from the course; officers' progress on it is kept."), "success")
    return redirect(url_for("catalog.course_edit", key=course.key))


@bp.post("/author/<key>/preview")
def preview(key: str) -> ResponseReturnValue:
    """Render Markdown as officers will see it (the editor's live preview). JSON in, JSON out."""
    course = _editable(key)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("body"), str):
        return jsonify(error=_("Send the lesson text as JSON: {\"body\": \"...\"}.")), 400
    body = payload["body"]
    if len(body) > services.MAX_BODY_CHARS:
        return jsonify(error=_("The text is too long (at most %(num)s characters).",
                               num=services.MAX_BODY_CHARS)), 413
    chosen = payload.get("lang")
    lang = chosen if isinstance(chosen, str) and chosen in course.languages else course.original_language
    html = services.render_lesson_body(
        services.nfc(body), lang, asset_url=lambda name: url_for("catalog.asset", key=course.key, name=name)
    )
    return jsonify(html=html, missing=services.missing_files(course, body))


@bp.post("/author/<key>/files")
def upload(key: str) -> Response:
    course = _editable(key)
    form = UploadForm()
    if not form.validate_on_submit():
        flash(_("Choose a file to upload."), "error")
        return redirect(url_for("catalog.course_edit", key=course.key))
    storage = form.file.data
    data = storage.read(services.MAX_UPLOAD_BYTES + 1)
    try:
        asset = services.add_asset(course, filename=storage.filename or "", data=data, actor=current_user)
    except services.CatalogError as err:
        undo(err)
        flash(_("%(file)s: %(problem)s", file=storage.filename or "?", problem=err.message), "error")
    else:
        flash(_("File uploaded: link it in a lesson as files/%(name)s", name=asset.path), "success")
    return redirect(url_for("catalog.course_edit", key=course.key))



# Trainer limits ------------------------------------------------------------------------------


@bp.get("/author/trainers")
@policy.require("catalog.manage_trainers")
def trainers() -> str:
    """Admins see every trainer and the courses each is limited to (none: every course)."""
    rows = queries.trainers_with_limits()
    courses = queries.all_courses_for_limits()
    return render_template("catalog/trainers.html", rows=rows, courses=courses, form=ConfirmForm(),
                           lang=_ui_lang())


@bp.post("/author/trainers/<int:user_id>")
@policy.require("catalog.manage_trainers")
def trainer_limits(user_id: int) -> Response:
    from lms.org.models import User

    trainer = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit() or not trainer.has_role("trainer"):
        abort(400)
    wanted = {int(v) for v in request.form.getlist("course_ids") if v.isdigit()}
    courses = [c for c in queries.all_courses_for_limits() if c.id in wanted]
    if len(courses) != len(wanted):
        abort(400)
    services.set_trainer_courses(trainer, courses, actor=current_user)
    flash(_("Course limits saved for %(name)s.", name=trainer.full_name), "success")
    return redirect(url_for("catalog.trainers"))


@bp.app_template_filter("lesson_url")
def lesson_url(lesson_key: str, course_key: str, lang: str) -> str:
    """A lesson's address as the course page links it (the offline copy stores exactly these)."""
    return url_for("catalog.lesson", key=course_key, lesson_key=lesson_key, lang=lang)
