"""Read course folders into frozen plain data, checking everything and naming the file and line of each
problem.

The format is documented in ``content/README.md``; keep the two in step. The loader never stops at the
first problem: it reports as many as it can find in one pass, because a trainer fixing a course wants the
whole list. A course with any error is left out of ``LoadResult.courses``, so nothing half-valid can be
synced; ``LoadResult.ok`` is what the sync service checks before writing anything.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from lms.i18n import N_, _
from lms.markup import asset_references
from lms.questionformat.gift import parse_gift
from lms.questionformat.qtypes.content import parse_content
from lms.questionformat.questions import Question

__all__ = [
    "KNOWN_LANGUAGES",
    "TOPICS",
    "Asset",
    "CertificateSettings",
    "CompletionRule",
    "ContentError",
    "Course",
    "Lesson",
    "LessonText",
    "LoadResult",
    "Module",
    "QuestionBank",
    "QuestionPick",
    "Quiz",
    "ReviewOptions",
    "is_language_code",
    "language_name",
    "load_content",
]

TOPICS = ("foundations", "spokesperson", "misinformation", "digital-minority", "other")

# Codes we can name; any other code of the right shape is accepted and shown as the code itself.
KNOWN_LANGUAGES: dict[str, str] = {
    "vi": N_("Vietnamese"),
    "en": N_("English"),
    "fr": N_("French"),
    "zh": N_("Chinese"),
    "km": N_("Khmer"),
    "lo": N_("Lao"),
    # ISO 639-3 splits Katu: ktv is Eastern Katu (Cơ Tu of Quảng Nam and Huế), kuf Western Katu (Laos).
    "ktv": N_("Katu (Cơ Tu)"),
    "kuf": N_("Western Katu"),
    "sed": N_("Sedang"),
    "jeh": N_("Jeh"),
    "cua": N_("Cua"),
    "hre": N_("Hre"),
    "bdq": N_("Bahnar"),
    "jra": N_("Jarai"),
    "rad": N_("Rade (Ê Đê)"),
    "kpm": N_("Koho"),
    "pac": N_("Pacoh"),
    "bru": N_("Bru"),
    "tth": N_("Ta'oih"),
    "cjm": N_("Cham"),
    "hmn": N_("Hmong"),
    "tyz": N_("Tày"),
    "nut": N_("Nùng"),
    "mtq": N_("Mường"),
}

# The files a course may ship, by extension. SVG is left out on purpose: an SVG opened on its own is a
# page that can run script.
CONTENT_TYPES: dict[str, str] = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".csv": "text/csv",
    ".txt": "text/plain",
}
# Officers in mountain districts read on slow links: a file this large deserves a second look.
LARGE_FILE_BYTES = 50 * 1024 * 1024

COURSE_KEY_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
ITEM_KEY_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")
LANGUAGE_CODE_RE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"


# --------------------------------------------------------------------------------------------------
# The data the loader returns


@dataclass(frozen=True)
class ContentError:
    """One problem, located: `path` is relative to the content root, `line` counts from 1."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.message}"
            if self.line
            else f"{self.path}: {self.message}"
        )


@dataclass(frozen=True)
class Asset:
    """A file in the course's `files/`; `path` is relative to `files/` (what lessons write after it)."""

    path: str
    size: int
    sha256: str
    content_type: str


@dataclass(frozen=True)
class LessonText:
    """One language edition of a lesson."""

    language: str
    title: str
    minutes: int
    body: str  # Markdown, NFC, "\n" line ends
    source: str  # file path relative to the course folder, for messages only
    body_line: int  # line of the file where `body` starts
    content_hash: str


@dataclass(frozen=True)
class Lesson:
    """A lesson in every language of its course, keyed by a key that survives file renames."""

    key: str
    module: str
    position: int  # 0-based place in the course's reading order
    texts: Mapping[str, LessonText]
    content_hash: str

    def text(self, language: str) -> LessonText:
        """The edition in `language`."""
        return self.texts[language]


@dataclass(frozen=True)
class Module:
    key: str
    title: Mapping[str, str]
    lessons: tuple[str, ...]
    quiz: str | None


@dataclass(frozen=True)
class QuestionPick:
    """A fixed question (`name`) or `count` random questions from `category` of the bank."""

    category: str | None
    count: int
    name: str | None


@dataclass(frozen=True)
class ReviewOptions:
    score: bool = True
    correct: bool = True
    feedback: bool = True


@dataclass(frozen=True)
class Quiz:
    key: str
    title: Mapping[str, str]
    picks: tuple[QuestionPick, ...]
    pass_mark: int
    time_limit_minutes: int | None
    max_attempts: int | None  # None: unlimited
    attempt_delay_minutes: int
    shuffle_choices: bool
    review: ReviewOptions
    final: bool
    module: str | None  # the module that shows it, if any
    questions_per_page: int = 5  # on a wide screen; phones show one at a time; 0: all on one page


@dataclass(frozen=True)
class CompletionRule:
    """What completes the course; `all` in course.yaml is resolved to the full list of keys."""

    lessons: tuple[str, ...]
    quizzes: tuple[str, ...]
    min_final_score: int | None


@dataclass(frozen=True)
class CertificateSettings:
    enabled: bool
    validity_months: int | None
    issuer: Mapping[str, str]
    signer_name: str | None
    signer_title: Mapping[str, str]
    seal: str | None  # path relative to files/


@dataclass(frozen=True)
class QuestionBank:
    """One GIFT (or YAML) bank file and its questions (`lms.questionformat.questions.Question`), in file order."""

    language: str
    source: str  # relative to the course folder
    text: str
    content_hash: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Course:
    key: str
    version: int
    folder: str
    topic: str
    hours: float
    languages: tuple[str, ...]
    open: bool
    title: Mapping[str, str]
    summary: Mapping[str, str]
    modules: tuple[Module, ...]
    lessons: Mapping[str, Lesson]  # in reading order
    quizzes: Mapping[str, Quiz]  # in course.yaml order
    completion: CompletionRule
    certificate: CertificateSettings
    assets: Mapping[str, Asset]  # by path relative to files/
    banks: Mapping[str, tuple[QuestionBank, ...]]  # by language
    content_hash: str

    @property
    def original_language(self) -> str:
        """The language the course was written in (listed first)."""
        return self.languages[0]


@dataclass(frozen=True)
class LoadResult:
    courses: tuple[Course, ...]
    errors: tuple[ContentError, ...]
    warnings: tuple[ContentError, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when nothing blocks a sync (warnings do not)."""
        return not self.errors


# --------------------------------------------------------------------------------------------------
# Languages


def is_language_code(code: str) -> bool:
    """Shape check for ISO 639-1/-3 codes with optional BCP 47 subtags (`vi`, `kuf`, `zh-Hant`)."""
    return bool(LANGUAGE_CODE_RE.fullmatch(code))


def language_name(code: str) -> str:
    """A readable name for a language code, translated; the code itself when we do not know it."""
    name = KNOWN_LANGUAGES.get(code) or KNOWN_LANGUAGES.get(code.split("-", 1)[0])
    return _(name) if name else code


# --------------------------------------------------------------------------------------------------
# Reporting and YAML with line numbers


class _Report:
    """Collects errors and warnings for one file."""

    def __init__(self, sink: _Sink, path: str, line_offset: int = 0) -> None:
        self.sink = sink
        self.path = path
        self.line_offset = line_offset

    def line(self, node: yaml.Node) -> int:
        return node.start_mark.line + 1 + self.line_offset

    def error(self, where: yaml.Node | int | None, message: str) -> None:
        line = self.line(where) if isinstance(where, yaml.Node) else where
        self.sink.errors.append(ContentError(self.path, line, message))

    def warning(self, where: yaml.Node | int | None, message: str) -> None:
        line = self.line(where) if isinstance(where, yaml.Node) else where
        self.sink.warnings.append(ContentError(self.path, line, message))


class _Sink:
    def __init__(self) -> None:
        self.errors: list[ContentError] = []
        self.warnings: list[ContentError] = []


def _compose(text: str, report: _Report) -> yaml.Node | None:
    """Parse YAML into nodes (which know their lines); syntax errors are reported with theirs."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + report.line_offset if mark else None
        problem = exc.problem or exc.context or str(exc)
        report.error(line, _("YAML syntax error: %(problem)s", problem=problem))
    except yaml.YAMLError as exc:
        report.error(None, _("YAML syntax error: %(problem)s", problem=str(exc)))
    return None


class _Map:
    """A YAML mapping being validated: every read records which keys were expected."""

    def __init__(self, report: _Report, node: yaml.MappingNode, name: str, line: int) -> None:
        self.report = report
        self.node = node
        self.name = name  # dotted path of this mapping, "" at the top
        self.line = line  # where to point when a field is missing
        self.items: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR:
                report.error(key_node, _("%(field)s: field names must be text", field=name or "-"))
                continue
            key = key_node.value
            if key in self.items:
                report.error(key_node, _("%(field)s is given twice", field=self.path(key)))
                continue
            self.items[key] = (key_node, value_node)

    def path(self, key: str) -> str:
        return f"{self.name}.{key}" if self.name else key

    def get(self, key: str, *, required: bool = False) -> yaml.Node | None:
        if key in self.items:
            return self.items[key][1]
        if required:
            self.report.error(self.line, _("%(field)s is required", field=self.path(key)))
        return None

    def key_line(self, key: str) -> int:
        return self.report.line(self.items[key][0]) if key in self.items else self.line

    def only(self, allowed: Iterable[str]) -> None:
        allowed = list(allowed)
        for key, (key_node, _value) in self.items.items():
            if key not in allowed:
                self.report.error(
                    key_node,
                    _(
                        "%(field)s is not a known field (known: %(allowed)s)",
                        field=self.path(key),
                        allowed=", ".join(allowed),
                    ),
                )


def _as_map(report: _Report, node: yaml.Node | None, name: str, line: int) -> _Map | None:
    if node is None:
        return None
    if not isinstance(node, yaml.MappingNode):
        report.error(node, _("%(field)s must be a set of `name: value` fields", field=name))
        return None
    return _Map(report, node, name, line)


def _as_list(report: _Report, node: yaml.Node | None, name: str) -> list[yaml.Node] | None:
    if node is None:
        return None
    if not isinstance(node, yaml.SequenceNode):
        report.error(node, _("%(field)s must be a list", field=name))
        return None
    return list(node.value)


def _scalar(node: yaml.Node, tags: tuple[str, ...]) -> Any:
    if not isinstance(node, yaml.ScalarNode) or node.tag not in tags:
        raise _WrongType
    return yaml.SafeLoader("").construct_object(node)


class _WrongType(Exception):
    pass


def _text(report: _Report, node: yaml.Node | None, name: str) -> str | None:
    if node is None:
        return None
    try:
        value = _scalar(node, (_STR,))
    except _WrongType:
        report.error(node, _("%(field)s must be text", field=name))
        return None
    value = value.strip()
    if not value:
        report.error(node, _("%(field)s must not be empty", field=name))
        return None
    return value


def _integer(
    report: _Report, node: yaml.Node | None, name: str, low: int, high: int | None = None
) -> int | None:
    if node is None:
        return None
    try:
        value = _scalar(node, (_INT,))
    except _WrongType:
        report.error(node, _("%(field)s must be a whole number", field=name))
        return None
    if value < low or (high is not None and value > high):
        if high is None:
            report.error(node, _("%(field)s must be at least %(low)s", field=name, low=low))
        else:
            report.error(
                node,
                _("%(field)s must be between %(low)s and %(high)s", field=name, low=low, high=high),
            )
        return None
    return value


def _number(
    report: _Report, node: yaml.Node | None, name: str, low: float, high: float
) -> float | None:
    if node is None:
        return None
    try:
        value = _scalar(node, (_INT, _FLOAT))
    except _WrongType:
        report.error(node, _("%(field)s must be a number", field=name))
        return None
    if not (low < value <= high):
        report.error(
            node,
            _(
                "%(field)s must be more than %(low)s and at most %(high)s",
                field=name,
                low=low,
                high=high,
            ),
        )
        return None
    return float(value)


def _boolean(report: _Report, node: yaml.Node | None, name: str, default: bool) -> bool:
    if node is None:
        return default
    try:
        return bool(_scalar(node, (_BOOL,)))
    except _WrongType:
        report.error(node, _("%(field)s must be true or false", field=name))
        return default


def _key(report: _Report, node: yaml.Node | None, name: str, *, course: bool = False) -> str | None:
    value = _text(report, node, name)
    if value is None or node is None:
        return None
    if course:
        ok = 3 <= len(value) <= 60 and COURSE_KEY_RE.fullmatch(value)
        rule = N_("a-z, 0-9 and '-', 3 to 60 characters")
    else:
        ok = len(value) <= 60 and ITEM_KEY_RE.fullmatch(value)
        rule = N_("a-z, 0-9, '-' and '_', starting with a letter or digit, at most 60 characters")
    if not ok:
        report.error(
            node,
            _(
                "%(field)s: '%(key)s' is not a valid key (%(rule)s)",
                field=name,
                key=value,
                rule=_(rule),
            ),
        )
        return None
    return value


def _localized(
    report: _Report, parent: _Map, key: str, languages: tuple[str, ...], *, required: bool = True
) -> dict[str, str]:
    """A `{language: text}` field that needs an entry for every course language."""
    name = parent.path(key)
    node = parent.get(key, required=required)
    mapping = _as_map(report, node, name, parent.key_line(key))
    if mapping is None:
        return {}
    values: dict[str, str] = {}
    for language in languages:
        value = _text(report, mapping.get(language), f"{name}.{language}")
        if value is not None:
            values[language] = value
        elif language not in mapping.items:
            report.error(
                mapping.line,
                _("%(field)s is missing the %(language)s text", field=name, language=language),
            )
    for language, (key_node, _value) in mapping.items.items():
        if language not in languages:
            report.error(
                key_node,
                _(
                    "%(field)s: '%(language)s' is not one of the course languages (%(languages)s)",
                    field=name,
                    language=language,
                    languages=", ".join(languages),
                ),
            )
    return values


# --------------------------------------------------------------------------------------------------
# Files


def _is_ignored(name: str) -> bool:
    """Hidden and underscore names are drafts and tooling files, never content."""
    return name.startswith((".", "_"))


def _is_symlink(path: Path, report: _Report) -> bool:
    """Content is copied and served: a link could publish any file of the machine that syncs it."""
    if path.is_symlink():
        report.error(
            None, _("symbolic links are not accepted in content: copy the file in instead")
        )
        return True
    return False


def _read_text(path: Path, report: _Report) -> str | None:
    """UTF-8 text in NFC with `\\n` line ends; a bad byte is reported with its line."""
    if _is_symlink(path, report):
        return None
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        report.error(line, _("the file is not UTF-8 text (save it as UTF-8)"))
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def _sha256(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _canonical_hash(value: Any) -> str:
    return _sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")))


# --------------------------------------------------------------------------------------------------
# One course


@dataclass
class _Manifest:
    """course.yaml as read so far, with the nodes that later cross-checks point at."""

    key: str | None = None
    key_node: yaml.Node | None = None
    version: int | None = None
    topic: str | None = None
    hours: float | None = None
    languages: tuple[str, ...] = ()
    open: bool = True
    title: dict[str, str] = field(default_factory=dict)
    summary: dict[str, str] = field(default_factory=dict)
    modules: list[Module] = field(default_factory=list)
    # lesson key -> the node listing it in a module (for "missing in language X" errors)
    lesson_nodes: dict[str, yaml.Node] = field(default_factory=dict)
    language_nodes: dict[str, yaml.Node] = field(default_factory=dict)
    quizzes: list[Quiz] = field(default_factory=list)
    quiz_nodes: dict[str, yaml.Node] = field(default_factory=dict)
    pick_nodes: dict[tuple[str, int], yaml.Node] = field(default_factory=dict)
    module_quiz_nodes: dict[str, yaml.Node] = field(default_factory=dict)
    completion_lessons: tuple[str, ...] | None = None  # None: all
    completion_quizzes: tuple[str, ...] | None = None
    completion_nodes: dict[str, yaml.Node] = field(default_factory=dict)
    min_final_score: int | None = None
    min_final_score_node: yaml.Node | None = None
    certificate: CertificateSettings | None = None
    seal_node: yaml.Node | None = None


_COURSE_FIELDS = (
    "key", "version", "topic", "hours", "languages", "open", "title", "summary", "modules",
    "quizzes", "completion", "certificate",
)  # fmt: skip
_MODULE_FIELDS = ("key", "title", "lessons", "quiz")
_QUIZ_FIELDS = (
    "key", "title", "questions", "pass_mark", "time_limit_minutes", "max_attempts",
    "attempt_delay_minutes", "shuffle_choices", "review", "final", "questions_per_page",
)  # fmt: skip
_COMPLETION_FIELDS = ("lessons", "quizzes", "min_final_score")
_CERTIFICATE_FIELDS = (
    "enabled", "validity_months", "issuer", "signer_name", "signer_title", "seal",
)  # fmt: skip
_LESSON_FIELDS = ("key", "title", "minutes")


def _read_manifest(report: _Report, text: str) -> _Manifest | None:
    errors_before = len(report.sink.errors)
    root = _compose(text, report)
    if root is None:
        if len(report.sink.errors) == errors_before:  # no syntax error: blank lines and comments only
            report.error(1, _("course.yaml is empty"))
        return None
    top = _as_map(report, root, "course.yaml", 1)
    if top is None:
        return None
    top.name = ""
    top.only(_COURSE_FIELDS)
    m = _Manifest()
    m.key_node = top.get("key", required=True)
    m.key = _key(report, m.key_node, "key", course=True)
    m.version = _integer(report, top.get("version", required=True), "version", 1)
    topic = _text(report, top.get("topic", required=True), "topic")
    if topic is not None and topic not in TOPICS:
        report.error(
            top.get("topic"),
            _("topic must be one of: %(choices)s", choices=", ".join(TOPICS)),
        )
    else:
        m.topic = topic
    m.hours = _number(report, top.get("hours", required=True), "hours", 0, 1000)
    m.open = _boolean(report, top.get("open"), "open", True)

    languages: list[str] = []
    for node in _as_list(report, top.get("languages", required=True), "languages") or []:
        code = _text(report, node, "languages")
        if code is None:
            continue
        if not is_language_code(code):
            report.error(
                node,
                _(
                    "languages: '%(code)s' is not a language code (use ISO 639 codes such as vi, en, kuf)",
                    code=code,
                ),
            )
        elif code in languages:
            report.error(node, _("languages: '%(code)s' is listed twice", code=code))
        else:
            languages.append(code)
            m.language_nodes[code] = node
    if "languages" in top.items and not languages:
        report.error(top.key_line("languages"), _("languages must list at least one language"))
    m.languages = tuple(languages)

    m.title = _localized(report, top, "title", m.languages)
    m.summary = _localized(report, top, "summary", m.languages)
    _read_quizzes(report, top, m)
    _read_modules(report, top, m)
    _read_completion(report, top, m)
    _read_certificate(report, top, m)
    return m


def _read_modules(report: _Report, top: _Map, m: _Manifest) -> None:
    nodes = _as_list(report, top.get("modules", required=True), "modules")
    if nodes is None:
        return
    if not nodes:
        report.error(top.key_line("modules"), _("modules must list at least one module"))
    seen_modules: set[str] = set()
    quiz_keys = {quiz.key for quiz in m.quizzes}
    quiz_owner: dict[str, str] = {}
    for index, node in enumerate(nodes, start=1):
        name = f"modules[{index}]"
        module = _as_map(report, node, name, report.line(node))
        if module is None:
            continue
        module.only(_MODULE_FIELDS)
        key = _key(report, module.get("key", required=True), f"{name}.key")
        if key is not None:
            if key in seen_modules:
                report.error(module.get("key"), _("module key '%(key)s' is used twice", key=key))
            seen_modules.add(key)
        title = _localized(report, module, "title", m.languages)
        lessons: list[str] = []
        lesson_list = _as_list(report, module.get("lessons", required=True), f"{name}.lessons")
        for lesson_node in lesson_list or []:
            lesson_key = _key(report, lesson_node, f"{name}.lessons")
            if lesson_key is None:
                continue
            if lesson_key in m.lesson_nodes:
                report.error(
                    lesson_node,
                    _("lesson '%(key)s' is listed more than once in the modules", key=lesson_key),
                )
                continue
            m.lesson_nodes[lesson_key] = lesson_node
            lessons.append(lesson_key)
        if lesson_list is not None and not lesson_list:
            report.error(
                module.key_line("lessons"), _("%(field)s is empty", field=f"{name}.lessons")
            )
        quiz_node = module.get("quiz")
        quiz = _key(report, quiz_node, f"{name}.quiz") if quiz_node is not None else None
        if quiz is not None and quiz_node is not None:
            if quiz not in quiz_keys:
                report.error(quiz_node, _("quiz '%(key)s' is not defined under quizzes", key=quiz))
                quiz = None
            elif quiz in quiz_owner:
                report.error(
                    quiz_node,
                    _(
                        "quiz '%(key)s' already belongs to module '%(module)s'",
                        key=quiz,
                        module=quiz_owner[quiz],
                    ),
                )
                quiz = None
            else:
                quiz_owner[quiz] = key or ""
        if key is not None:
            m.modules.append(Module(key=key, title=title, lessons=tuple(lessons), quiz=quiz))
    # Quizzes were read first (modules point at them); now record which module shows each one.
    m.quizzes = [replace(quiz, module=quiz_owner.get(quiz.key)) for quiz in m.quizzes]


def _read_quizzes(report: _Report, top: _Map, m: _Manifest) -> None:
    nodes = _as_list(report, top.get("quizzes"), "quizzes") or []
    for index, node in enumerate(nodes, start=1):
        name = f"quizzes[{index}]"
        quiz = _as_map(report, node, name, report.line(node))
        if quiz is None:
            continue
        quiz.only(_QUIZ_FIELDS)
        key_node = quiz.get("key", required=True)
        key = _key(report, key_node, f"{name}.key")
        if key is not None and key in m.quiz_nodes:
            report.error(key_node, _("quiz key '%(key)s' is used twice", key=key))
            key = None
        title = _localized(report, quiz, "title", m.languages)
        picks = _read_picks(report, quiz, name, key, m)
        pass_mark = _integer(
            report, quiz.get("pass_mark", required=True), f"{name}.pass_mark", 0, 100
        )
        time_limit = _integer(
            report, quiz.get("time_limit_minutes"), f"{name}.time_limit_minutes", 1, 24 * 60
        )
        max_attempts = _integer(report, quiz.get("max_attempts"), f"{name}.max_attempts", 0, 1000)
        delay = _integer(
            report, quiz.get("attempt_delay_minutes"), f"{name}.attempt_delay_minutes", 0, 525600
        )
        shuffle = _boolean(report, quiz.get("shuffle_choices"), f"{name}.shuffle_choices", True)
        review = ReviewOptions()
        review_map = _as_map(report, quiz.get("review"), f"{name}.review", quiz.key_line("review"))
        if review_map is not None:
            review_map.only(("score", "correct", "feedback"))
            review = ReviewOptions(
                score=_boolean(report, review_map.get("score"), f"{name}.review.score", True),
                correct=_boolean(report, review_map.get("correct"), f"{name}.review.correct", True),
                feedback=_boolean(
                    report, review_map.get("feedback"), f"{name}.review.feedback", True
                ),
            )
        final = _boolean(report, quiz.get("final"), f"{name}.final", False)
        per_page = _integer(
            report, quiz.get("questions_per_page"), f"{name}.questions_per_page", 0, 50
        )
        if key is None or key_node is None or pass_mark is None:
            continue
        m.quiz_nodes[key] = key_node
        m.quizzes.append(
            Quiz(
                key=key,
                title=title,
                picks=picks,
                pass_mark=pass_mark,
                time_limit_minutes=time_limit,
                max_attempts=max_attempts or None,
                attempt_delay_minutes=delay or 0,
                shuffle_choices=shuffle,
                review=review,
                final=final,
                module=None,
                questions_per_page=5 if per_page is None else per_page,
            )
        )
    finals = [quiz for quiz in m.quizzes if quiz.final]
    for extra in finals[1:]:
        report.error(
            m.quiz_nodes[extra.key],
            _(
                "only one quiz can be the final test; '%(first)s' already is",
                first=finals[0].key,
            ),
        )


def _read_picks(
    report: _Report, quiz: _Map, name: str, key: str | None, m: _Manifest
) -> tuple[QuestionPick, ...]:
    picks: list[QuestionPick] = []
    nodes = _as_list(report, quiz.get("questions", required=True), f"{name}.questions")
    if nodes is not None and not nodes:
        report.error(quiz.key_line("questions"), _("%(field)s is empty", field=f"{name}.questions"))
    names: set[str] = set()
    for index, node in enumerate(nodes or [], start=1):
        pick_name = f"{name}.questions[{index}]"
        pick = _as_map(report, node, pick_name, report.line(node))
        if pick is None:
            continue
        pick.only(("category", "count", "name"))
        if "name" in pick.items and ("category" in pick.items or "count" in pick.items):
            report.error(
                pick.line,
                _(
                    "%(field)s: give either `name` (one fixed question) or `category` and `count`",
                    field=pick_name,
                ),
            )
            continue
        if "name" in pick.items:
            question = _text(report, pick.get("name"), f"{pick_name}.name")
            if question is None:
                continue
            if question in names:
                report.error(
                    pick.get("name"),
                    _("question '%(name)s' is picked twice in this quiz", name=question),
                )
                continue
            names.add(question)
            picks.append(QuestionPick(category=None, count=1, name=question))
        elif "category" in pick.items or "count" in pick.items:
            category = _text(report, pick.get("category", required=True), f"{pick_name}.category")
            count = _integer(report, pick.get("count", required=True), f"{pick_name}.count", 1, 500)
            if category is None or count is None:
                continue
            picks.append(QuestionPick(category=category, count=count, name=None))
        else:
            report.error(
                pick.line,
                _(
                    "%(field)s: give either `name` (one fixed question) or `category` and `count`",
                    field=pick_name,
                ),
            )
            continue
        if key is not None:
            m.pick_nodes[(key, len(picks) - 1)] = node
    return tuple(picks)


def _read_completion(report: _Report, top: _Map, m: _Manifest) -> None:
    completion = _as_map(report, top.get("completion"), "completion", top.key_line("completion"))
    if completion is None:
        return
    completion.only(_COMPLETION_FIELDS)

    def keys(field_name: str) -> tuple[str, ...] | None:
        node = completion.get(field_name)
        if node is None:
            return None
        m.completion_nodes[field_name] = node
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR and node.value == "all":
            return None
        if not isinstance(node, yaml.SequenceNode):
            report.error(
                node,
                _("completion.%(field)s must be `all` or a list of keys", field=field_name),
            )
            return None
        found = [_key(report, item, f"completion.{field_name}") for item in node.value]
        return tuple(key for key in found if key is not None)

    m.completion_lessons = keys("lessons")
    m.completion_quizzes = keys("quizzes")
    m.min_final_score_node = completion.get("min_final_score")
    m.min_final_score = _integer(
        report, m.min_final_score_node, "completion.min_final_score", 0, 100
    )


def _read_certificate(report: _Report, top: _Map, m: _Manifest) -> None:
    node = top.get("certificate")
    cert = _as_map(report, node, "certificate", top.key_line("certificate"))
    if cert is None:
        m.certificate = CertificateSettings(
            enabled=False,
            validity_months=None,
            issuer={},
            signer_name=None,
            signer_title={},
            seal=None,
        )
        return
    cert.only(_CERTIFICATE_FIELDS)
    enabled = _boolean(report, cert.get("enabled", required=True), "certificate.enabled", False)
    validity = _integer(report, cert.get("validity_months"), "certificate.validity_months", 1, 1200)
    issuer = _localized(report, cert, "issuer", m.languages, required=enabled)
    signer_name = _text(
        report, cert.get("signer_name", required=enabled), "certificate.signer_name"
    )
    signer_title = _localized(report, cert, "signer_title", m.languages, required=enabled)
    seal = None
    m.seal_node = cert.get("seal")
    seal_path = _text(report, m.seal_node, "certificate.seal")
    if seal_path is not None:
        if not seal_path.startswith("files/"):
            report.error(
                m.seal_node, _("certificate.seal must be a file in files/, e.g. files/seal.png")
            )
        else:
            seal = seal_path[len("files/") :]
    m.certificate = CertificateSettings(
        enabled=enabled,
        validity_months=validity,
        issuer=issuer,
        signer_name=signer_name,
        signer_title=signer_title,
        seal=seal,
    )


def _read_assets(course_dir: Path, rel: str, sink: _Sink) -> dict[str, Asset]:
    files_dir = course_dir / "files"
    assets: dict[str, Asset] = {}
    if _is_symlink(files_dir, _Report(sink, f"{rel}/files")) or not files_dir.is_dir():
        return assets
    for path in sorted(files_dir.rglob("*")):
        relative = path.relative_to(files_dir)
        if any(_is_ignored(part) for part in relative.parts):
            continue
        name = relative.as_posix()
        report = _Report(sink, f"{rel}/files/{name}")
        if _is_symlink(path, report) or not path.is_file():
            continue
        suffix = path.suffix.lower()
        if suffix not in CONTENT_TYPES:
            report.error(
                None,
                _(
                    "files of type '%(suffix)s' are not accepted (accepted: %(accepted)s)",
                    suffix=suffix or "-",
                    accepted=" ".join(sorted(CONTENT_TYPES)),
                ),
            )
            continue
        data = path.read_bytes()
        if len(data) > LARGE_FILE_BYTES:
            report.warning(
                None,
                _(
                    "this file is %(size)s MB: officers on slow links may not manage to open it",
                    size=len(data) // (1024 * 1024),
                ),
            )
        assets[name] = Asset(
            path=name, size=len(data), sha256=_sha256(data), content_type=CONTENT_TYPES[suffix]
        )
    return assets


def _split_front_matter(text: str, report: _Report) -> tuple[str, str, int] | None:
    """(front matter, body, line where the body starts), or None after reporting why not."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        report.error(
            1, _("a lesson must start with front matter: a line `---`, key, title, minutes, `---`")
        )
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 2
    report.error(1, _("the front matter is not closed by a `---` line"))
    return None


@dataclass
class _LessonFile:
    key: str
    key_node_line: int
    text: LessonText | None  # None when the file has errors; its key still counts as present
    report: _Report


def _read_lesson(path: Path, language: str, rel: str, sink: _Sink) -> _LessonFile | None:
    source = f"{language}/{path.name}"
    report = _Report(sink, f"{rel}/{source}")
    text = _read_text(path, report)
    if text is None:
        return None
    parts = _split_front_matter(text, report)
    if parts is None:
        return None
    front_matter, body, body_line = parts
    report.line_offset = 1  # the YAML starts on the file's second line
    root = _compose(front_matter, report)
    if root is None:
        if not front_matter.strip():
            report.error(1, _("the front matter is empty: it needs key, title and minutes"))
        return None
    meta = _as_map(report, root, "front matter", 1)
    if meta is None:
        return None
    meta.name = ""
    meta.only(_LESSON_FIELDS)
    key = _key(report, meta.get("key", required=True), "key")
    title = _text(report, meta.get("title", required=True), "title")
    minutes = _integer(report, meta.get("minutes", required=True), "minutes", 1, 600)
    key_line = meta.key_line("key")
    report.line_offset = 0
    if not body.strip():
        report.warning(body_line, _("the lesson has no text after its front matter"))
    if key is None:
        return None
    if title is None or minutes is None:
        return _LessonFile(key=key, key_node_line=key_line, text=None, report=report)
    edition_hash = _canonical_hash({"title": title, "minutes": minutes, "body": body})
    return _LessonFile(
        key=key,
        key_node_line=key_line,
        text=LessonText(
            language=language,
            title=title,
            minutes=minutes,
            body=body,
            source=source,
            body_line=body_line,
            content_hash=edition_hash,
        ),
        report=report,
    )


def _check_lesson_assets(lesson: _LessonFile, assets: Mapping[str, Asset], used: set[str]) -> None:
    if lesson.text is None:
        return
    for reference in asset_references(lesson.text.body):
        line = lesson.text.body_line + reference.line - 1
        parts = PurePosixPath(reference.name).parts
        if not reference.name or ".." in parts or reference.name.startswith("/"):
            lesson.report.error(
                line,
                _(
                    "'files/%(name)s' points outside the course's files/ folder",
                    name=reference.name,
                ),
            )
        elif reference.name not in assets:
            lesson.report.error(
                line, _("files/%(name)s does not exist in this course", name=reference.name)
            )
        else:
            used.add(reference.name)


YAML_BANK_SUFFIXES = (".yaml", ".yml")


def _comment_says(lines: list[str], question_line: int, marker: str) -> bool:
    """Whether the comment lines right above a question (GIFT ``//``) carry ``marker``."""
    index = question_line - 2
    while index >= 0 and lines[index].lstrip().startswith("//"):
        if marker in lines[index]:
            return True
        index -= 1
    return False


def _read_bank(path: Path, language: str, rel: str, sink: _Sink) -> QuestionBank | None:
    source = f"{language}/{path.name}"
    report = _Report(sink, f"{rel}/{source}")
    text = _read_text(path, report)
    if text is None:
        return None
    if path.suffix.lower() in YAML_BANK_SUFFIXES:
        # Types GIFT cannot say (ordering) live in YAML banks; every entry there has a name: key.
        parsed = parse_content(text, f"{rel}/{source}")
        for problem in parsed.errors:
            report.error(problem.line, f"[{problem.question}] {problem.message}"
                         if problem.question else problem.message)
        return QuestionBank(language=language, source=source, text=text,
                            content_hash=_sha256(text), questions=tuple(parsed.questions))
    parsed = parse_gift(text, f"{rel}/{source}")
    for problem in parsed.errors:
        report.error(problem.line, problem.message)
    lines = text.split("\n")
    questions: list[Question] = []
    first_line: dict[str, int] = {}
    for question in parsed.questions:
        # Moodle (and the web import) allow repeated names; in a course folder the name is the key.
        if question.name in first_line:
            report.error(question.line, _("the name '%(name)s' is already used by the question on "
                                          "line %(line)s; question names must be unique",
                                          name=question.name, line=first_line[question.name]))
            continue
        first_line[question.name] = question.line
        # The parser derives a name from the text when `::name::` is missing; such a name changes
        # whenever the text is edited, so it cannot be the stable key that attempts point at.
        start = lines[question.line - 1] if 0 < question.line <= len(lines) else ""
        if not start.lstrip().startswith("::"):
            report.error(question.line, _("every question needs a ::name:: (its stable key)"))
            continue
        if language == "vi" and question.type == "short" and not question.ignore_diacritics \
                and not _comment_says(lines, question.line, "[lms:diacritics-matter]"):
            report.warning(question.line, _(
                "short-answer question '%(name)s' refuses answers typed without diacritics (as many officers "
                "type on a phone): add // [lms:ignore-diacritics] above it, or // [lms:diacritics-matter] "
                "when the diacritics change the meaning", name=question.name))
        questions.append(question)
    return QuestionBank(
        language=language,
        source=source,
        text=text,
        content_hash=_sha256(text),
        questions=tuple(questions),
    )


def _check_banks(
    report: _Report,
    m: _Manifest,
    language: str,
    banks: list[QuestionBank],
    sink: _Sink,
    rel: str,
) -> None:
    """Every pick of every quiz can be served from this language's banks, without repeats."""
    by_name: dict[str, tuple[str, Question]] = {}
    for bank in banks:
        bank_report = _Report(sink, f"{rel}/{bank.source}")
        for question in bank.questions:
            name = question.name
            if name in by_name:
                other = by_name[name]
                bank_report.error(
                    question.line,
                    _(
                        "question '%(name)s' is defined twice (also in %(other)s)",
                        name=name,
                        other=other[0],
                    ),
                )
                continue
            by_name[name] = (bank.source, question)
    for quiz in m.quizzes:
        named = {pick.name for pick in quiz.picks if pick.name}
        wanted: dict[str, int] = {}
        for index, pick in enumerate(quiz.picks):
            node = m.pick_nodes.get((quiz.key, index))
            if pick.name is not None and pick.name not in by_name:
                report.error(
                    node,
                    _(
                        "quiz '%(quiz)s': question '%(name)s' is not in the %(language)s question bank",
                        quiz=quiz.key,
                        name=pick.name,
                        language=language,
                    ),
                )
            if pick.category is not None:
                wanted[pick.category] = wanted.get(pick.category, 0) + pick.count
        for index, pick in enumerate(quiz.picks):
            if pick.category is None or pick.category not in wanted:
                continue
            needed = wanted.pop(pick.category)
            node = m.pick_nodes.get((quiz.key, index))
            in_category = [
                name
                for name, (_source, question) in by_name.items()
                if question.category == pick.category and question.type != "description"
            ]
            # Questions also picked by name are not drawn again, so they do not count as available.
            available = len([name for name in in_category if name not in named])
            if not in_category:
                report.error(
                    node,
                    _(
                        "quiz '%(quiz)s': category '%(category)s' has no questions in the %(language)s question bank",
                        quiz=quiz.key,
                        category=pick.category,
                        language=language,
                    ),
                )
            elif available < needed:
                report.error(
                    node,
                    _(
                        "quiz '%(quiz)s' draws %(needed)s questions from category '%(category)s', "
                        "but the %(language)s question bank has only %(available)s to draw from",
                        quiz=quiz.key,
                        needed=needed,
                        category=pick.category,
                        language=language,
                        available=available,
                    ),
                )


def _load_course(
    course_dir: Path, root: Path, sink: _Sink
) -> tuple[Course | None, _Manifest | None]:
    rel = course_dir.relative_to(root).as_posix()
    errors_before = len(sink.errors)
    manifest_path = course_dir / "course.yaml"
    report = _Report(sink, f"{rel}/course.yaml")
    if not manifest_path.is_file():
        report.error(None, _("every course folder needs a course.yaml"))
        return None, None
    text = _read_text(manifest_path, report)
    m = _read_manifest(report, text) if text is not None else None
    if m is None:
        return None, None

    assets = _read_assets(course_dir, rel, sink)
    used_assets: set[str] = set()

    # Folders: language editions, files/, and nothing else.
    for entry in sorted(course_dir.iterdir()):
        if _is_ignored(entry.name) or entry.name in ("course.yaml", "files", "README.md"):
            continue
        if not entry.is_dir() or entry.name not in m.languages:
            _Report(sink, f"{rel}/{entry.name}").error(
                None,
                _(
                    "'%(name)s' is not part of the course format: a course folder holds course.yaml, "
                    "files/ and one folder per language in `languages` (start a name with _ to keep a draft)",
                    name=entry.name,
                ),
            )

    listed_order = [key for module in m.modules for key in module.lessons]
    lesson_module = {key: module.key for module in m.modules for key in module.lessons}
    texts: dict[str, dict[str, LessonText]] = {key: {} for key in listed_order}
    banks: dict[str, tuple[QuestionBank, ...]] = {}
    for language in m.languages:
        language_dir = course_dir / language
        if _is_symlink(language_dir, _Report(sink, f"{rel}/{language}")):
            continue
        if not language_dir.is_dir():
            report.error(
                m.language_nodes[language],
                _(
                    "the folder %(language)s/ for language %(language)s is missing",
                    language=language,
                ),
            )
            continue
        seen: dict[str, _LessonFile] = {}
        language_banks: list[QuestionBank] = []
        for path in sorted(language_dir.iterdir()):
            if _is_ignored(path.name):
                continue
            if path.is_file() and path.suffix.lower() == ".md":
                lesson = _read_lesson(path, language, rel, sink)
                if lesson is None:
                    continue
                _check_lesson_assets(lesson, assets, used_assets)
                if lesson.key in seen:
                    lesson.report.error(
                        lesson.key_node_line,
                        _(
                            "lesson key '%(key)s' is also used by %(other)s",
                            key=lesson.key,
                            other=seen[lesson.key].report.path.split("/", 1)[1],
                        ),
                    )
                    continue
                seen[lesson.key] = lesson
                if lesson.key not in texts:
                    lesson.report.error(
                        lesson.key_node_line,
                        _(
                            "lesson '%(key)s' is not listed in any module of course.yaml",
                            key=lesson.key,
                        ),
                    )
                    continue
                if lesson.text is not None:
                    texts[lesson.key][language] = lesson.text
            elif path.is_file() and path.suffix.lower() in (".gift", *YAML_BANK_SUFFIXES):
                bank = _read_bank(path, language, rel, sink)
                if bank is not None:
                    language_banks.append(bank)
            else:
                _Report(sink, f"{rel}/{language}/{path.name}").error(
                    None,
                    _(
                        "only lessons (.md) and question banks (.gift, or .yaml for the types GIFT "
                        "cannot say) belong in a language folder; put other files in files/"
                    ),
                )
        for key in listed_order:
            if key not in seen:
                report.error(
                    m.lesson_nodes[key],
                    _(
                        "lesson '%(key)s' has no %(language)s file (no .md in %(language)s/ has key: %(key)s)",
                        key=key,
                        language=language,
                    ),
                )
        banks[language] = tuple(language_banks)
        if m.quizzes:
            _check_banks(report, m, language, language_banks, sink, rel)

    quiz_keys = [quiz.key for quiz in m.quizzes]
    final = next((quiz for quiz in m.quizzes if quiz.final), None)
    for quiz in m.quizzes:
        if quiz.module is None and not quiz.final:
            report.warning(
                m.quiz_nodes[quiz.key],
                _(
                    "quiz '%(key)s' is not shown by any module and is not the final test",
                    key=quiz.key,
                ),
            )
    for field_name, chosen, known, what in (
        ("lessons", m.completion_lessons, listed_order, N_("lesson")),
        ("quizzes", m.completion_quizzes, quiz_keys, N_("quiz")),
    ):
        for key in chosen or ():
            if key not in known:
                report.error(
                    m.completion_nodes[field_name],
                    _(
                        "completion.%(field)s: %(what)s '%(key)s' does not exist in this course",
                        field=field_name,
                        what=_(what),
                        key=key,
                    ),
                )
    if m.min_final_score is not None and final is None:
        report.error(
            m.min_final_score_node,
            _("completion.min_final_score needs a quiz with final: true"),
        )
    certificate = m.certificate
    assert certificate is not None
    if certificate.seal is not None:
        seal = assets.get(certificate.seal)
        if seal is None:
            report.error(
                m.seal_node,
                _("files/%(name)s does not exist in this course", name=certificate.seal),
            )
        elif seal.content_type not in ("image/png", "image/jpeg", "image/webp"):
            report.error(m.seal_node, _("certificate.seal must be a PNG, JPEG or WebP image"))
        else:
            used_assets.add(certificate.seal)
    for name in assets:
        if name not in used_assets:
            _Report(sink, f"{rel}/files/{name}").warning(
                None, _("no lesson or certificate uses this file")
            )

    if len(sink.errors) > errors_before:
        return None, m
    assert m.key is not None and m.version is not None and m.topic is not None
    assert m.hours is not None

    lessons: dict[str, Lesson] = {}
    for position, key in enumerate(listed_order):
        editions = {language: texts[key][language] for language in m.languages}
        lessons[key] = Lesson(
            key=key,
            module=lesson_module[key],
            position=position,
            texts=editions,
            content_hash=_canonical_hash(
                {"key": key, "texts": {lang: t.content_hash for lang, t in editions.items()}}
            ),
        )
    completion = CompletionRule(
        lessons=tuple(listed_order) if m.completion_lessons is None else m.completion_lessons,
        quizzes=tuple(quiz_keys) if m.completion_quizzes is None else m.completion_quizzes,
        min_final_score=m.min_final_score,
    )
    quizzes = {quiz.key: quiz for quiz in m.quizzes}
    fingerprint = {
        "key": m.key,
        "version": m.version,
        "topic": m.topic,
        "hours": m.hours,
        "languages": m.languages,
        "open": m.open,
        "title": m.title,
        "summary": m.summary,
        "modules": [module.__dict__ for module in m.modules],
        "lessons": {key: lesson.content_hash for key, lesson in lessons.items()},
        "quizzes": [_quiz_fingerprint(quiz) for quiz in m.quizzes],
        "completion": completion.__dict__,
        "certificate": certificate.__dict__,
        "assets": {name: asset.sha256 for name, asset in assets.items()},
        "banks": {
            language: sorted(bank.content_hash for bank in language_banks)
            for language, language_banks in banks.items()
        },
    }
    course = Course(
        key=m.key,
        version=m.version,
        folder=rel,
        topic=m.topic,
        hours=m.hours,
        languages=m.languages,
        open=m.open,
        title=m.title,
        summary=m.summary,
        modules=tuple(m.modules),
        lessons=lessons,
        quizzes=quizzes,
        completion=completion,
        certificate=certificate,
        assets=assets,
        banks=banks,
        content_hash=_canonical_hash(fingerprint),
    )
    return course, m


def _quiz_fingerprint(quiz: Quiz) -> dict[str, Any]:
    data = dict(quiz.__dict__)
    data["picks"] = [pick.__dict__ for pick in quiz.picks]
    data["review"] = quiz.review.__dict__
    return data


# --------------------------------------------------------------------------------------------------
# Everything under a root


def load_content(root: Path) -> LoadResult:
    """Read and check every course folder under `root`; see content/README.md for the format."""
    root = Path(root)
    sink = _Sink()
    if not root.is_dir():
        sink.errors.append(ContentError(str(root), None, _("the content folder does not exist")))
        return LoadResult(courses=(), errors=tuple(sink.errors))
    courses: list[Course] = []
    owners: dict[str, tuple[str, _Manifest, Course | None]] = {}
    rejected: set[str] = set()
    for course_dir in sorted(root.iterdir()):
        if not course_dir.is_dir() or _is_ignored(course_dir.name):
            continue
        course, manifest = _load_course(course_dir, root, sink)
        if manifest is None or manifest.key is None:
            continue
        folder = course_dir.relative_to(root).as_posix()
        if manifest.key in owners:
            other_folder, other_manifest, _other = owners[manifest.key]
            for path, node, other in (
                (folder, manifest.key_node, other_folder),
                (other_folder, other_manifest.key_node, folder),
            ):
                sink.errors.append(
                    ContentError(
                        f"{path}/course.yaml",
                        node.start_mark.line + 1 if node is not None else None,
                        _(
                            "course key '%(key)s' is also used by %(other)s",
                            key=manifest.key,
                            other=f"{other}/course.yaml",
                        ),
                    )
                )
            rejected.add(manifest.key)
            continue
        owners[manifest.key] = (folder, manifest, course)
        if course is not None:
            courses.append(course)
    return LoadResult(
        courses=tuple(course for course in courses if course.key not in rejected),
        errors=tuple(sink.errors),
        warnings=tuple(sink.warnings),
    )
