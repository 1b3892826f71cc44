"""Lesson Markdown to safe HTML, plain text for search, and the list of files a lesson uses.

Trainers write lessons; officers read them. Whatever a lesson contains, the HTML that leaves this module
has been through an allow-list sanitiser (nh3), so Markdown features are added here by rendering them to
tags and classes that the allow-list below knows about, never by widening the list.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.footnote import footnote_plugin

from lms.i18n import N_, _

__all__ = [
    "CALLOUTS",
    "AssetReference",
    "asset_names",
    "asset_references",
    "heading_slug",
    "lesson_plain_text",
    "render_markdown",
    "sanitize_html",
]

# Box name -> default heading. A lesson may give its own heading after the name: `::: note Sources`.
CALLOUTS: dict[str, str] = {
    "key-points": N_("Key points"),
    "scenario": N_("Scenario"),
    "note": N_("Note"),
    "warning": N_("Warning"),
}

VIDEO_EXTENSIONS = (".mp4", ".webm")
AUDIO_EXTENSIONS = (".mp3", ".ogg", ".oga", ".m4a")
FILES_PREFIX = "files/"
# Every id in lesson HTML gets this prefix (and every `#fragment` link follows it), so a lesson cannot
# clobber ids the page or its scripts rely on.
ID_PREFIX = "lc-"

_ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
    "strong", "em", "b", "i", "u", "s", "del", "ins", "sub", "sup", "small", "mark", "kbd", "code",
    "pre", "abbr", "q", "cite", "blockquote", "span", "div", "aside", "section", "figure", "figcaption",
    "ul", "ol", "li", "dl", "dt", "dd",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
    "a", "img", "video", "audio", "source",
}  # fmt: skip
# Dropped together with everything inside them: their content is code or markup, not reading matter.
_DROPPED_WITH_CONTENT = {
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math",
    "template", "noscript", "title", "xmp", "noembed", "noframes", "plaintext",
}  # fmt: skip
_ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"lang", "title"},
    "a": {"href", "id"},
    "img": {"src", "alt", "width", "height"},
    "video": {"src", "width", "height"},
    "audio": {"src"},
    "source": {"src", "type"},
    "h1": {"id"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
    "li": {"id"},
    "ol": {"start"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
}  # fmt: skip
_ALLOWED_ATTRIBUTE_VALUES = {"div": {"role": {"region"}, "tabindex": {"0"}}}
# Players always show their controls and never download before the officer presses play: on a slow
# mountain-district link, a page with three videos must not fetch three videos.
_FORCED_ATTRIBUTES = {
    "img": {"loading": "lazy"},
    "video": {"controls": "", "preload": "none"},
    "audio": {"controls": "", "preload": "none"},
}
_ALIGN_CLASSES = {"align-left", "align-center", "align-right"}
_ALLOWED_CLASSES: dict[str, set[str]] = {
    "aside": {"callout"} | {f"callout-{name}" for name in CALLOUTS},
    "p": {"callout-title"},
    "div": {"table-scroll"},
    "th": _ALIGN_CLASSES,
    "td": _ALIGN_CLASSES,
    "hr": {"footnotes-sep"},
    "section": {"footnotes"},
    "ol": {"footnotes-list"},
    "li": {"footnote-item"},
    "sup": {"footnote-ref"},
    "a": {"footnote-backref"},
}
_URL_SCHEMES = {"http", "https", "mailto"}


@dataclass(frozen=True)
class AssetReference:
    """A `files/NAME` link or image in a lesson; `line` counts from 1 within the Markdown text."""

    name: str
    line: int


def heading_slug(text: str) -> str:
    """An ASCII id for a heading: Vietnamese letters lose their marks, `đ` becomes `d`."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "section"


def _media_kind(url: str) -> str | None:
    path = url.split("#", 1)[0].split("?", 1)[0].lower()
    if path.endswith(VIDEO_EXTENSIONS):
        return "video"
    if path.endswith(AUDIO_EXTENSIONS):
        return "audio"
    return None


def _render_image(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    kind = _media_kind(src)
    alt = self.renderInlineAsText(token.children or [], options, env)
    if kind is None:
        token.attrSet("alt", alt)
        return self.renderToken(tokens, idx, options, env)
    title = token.attrGet("title")
    title_attr = f' title="{escape(str(title))}"' if title else ""
    # The link inside the player is what a browser without the codec, or a screen reader, offers.
    label = escape(alt or src.rsplit("/", 1)[-1])
    return (
        f'<{kind} controls preload="none" src="{escape(src)}"{title_attr}>'
        f'<a href="{escape(src)}">{label}</a></{kind}>'
    )


def _render_table_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # A wide table scrolls inside its own box instead of stretching a 360 px phone screen.
    return '<div class="table-scroll" role="region" tabindex="0">\n' + self.renderToken(
        tokens, idx, options, env
    )


def _render_table_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return self.renderToken(tokens, idx, options, env) + "</div>\n"


def _cell_alignment_to_class(state: Any) -> None:
    """Turn markdown-it's `style="text-align:…"` on table cells into a class: styles never survive."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open"):
            style = token.attrGet("style")
            if style:
                del token.attrs["style"]
                match = re.fullmatch(r"text-align:(left|center|right)", str(style))
                if match:
                    token.attrSet("class", f"align-{match.group(1)}")


def _callout_renderer(name: str, translate: Callable[[str], str]) -> Callable[..., str]:
    def render(
        self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        token = tokens[idx]
        if token.nesting != 1:
            return "</aside>\n"
        custom = token.info.strip()[len(name) :].strip()
        heading = custom or translate(CALLOUTS[name])
        return (
            f'<aside class="callout callout-{name}">\n'
            f'<p class="callout-title">{escape(heading)}</p>\n'
        )

    return render


def _callout_validator(name: str) -> Callable[[str, str], bool]:
    def validate(params: str, markup: str) -> bool:
        words = params.strip().split(maxsplit=1)
        return bool(words) and words[0] == name

    return validate


def _make_parser(translate: Callable[[str], str] | None = None) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    footnote_plugin(md)
    anchors_plugin(md, min_level=1, max_level=6, slug_func=heading_slug)
    for name in CALLOUTS:
        container_plugin(
            md,
            name,
            validate=_callout_validator(name),
            render=_callout_renderer(name, translate or _),
        )
    md.core.ruler.push("cell_alignment_to_class", _cell_alignment_to_class)
    md.add_render_rule("image", _render_image)
    md.add_render_rule("table_open", _render_table_open)
    md.add_render_rule("table_close", _render_table_close)
    return md


_PARSER = _make_parser()


def _split_files_url(url: str) -> str | None:
    """`files/a%20b.png#x` -> `a b.png`; None for anything that is not a `files/` link."""
    if not url.startswith(FILES_PREFIX):
        return None
    path = url.split("#", 1)[0].split("?", 1)[0]
    return unquote(path[len(FILES_PREFIX) :])


_DATA_IMAGE_URL = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+\Z")


def _only_data_images(tag: str, attribute: str, value: str) -> str | None:
    """With ``data:`` allowed, keep it only as a raster image's source (never a link, never SVG)."""
    if value.lstrip().lower().startswith("data:"):
        return value if tag == "img" and attribute == "src" and _DATA_IMAGE_URL.match(value) else None
    return value


def sanitize_html(
    html: str,
    *,
    asset_url: Callable[[str], str] | None = None,
    data_images: bool = False,
) -> str:
    """Clean HTML with the lesson allow-list; `files/NAME` URLs go through `asset_url`.

    ``data_images`` lets pictures embedded in the text itself through (question banks imported
    from Moodle carry them so); anything else with a ``data:`` URL is still removed.
    """

    def relative_url(url: str) -> str | None:
        if url.startswith("#"):
            fragment = url[1:]
            return url if fragment.startswith(ID_PREFIX) else f"#{ID_PREFIX}{fragment}"
        name = _split_files_url(url)
        if name is not None and asset_url is not None:
            return asset_url(name)
        return url

    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        clean_content_tags=_DROPPED_WITH_CONTENT,
        attributes=_ALLOWED_ATTRIBUTES,
        tag_attribute_values=_ALLOWED_ATTRIBUTE_VALUES,
        set_tag_attribute_values=_FORCED_ATTRIBUTES,
        allowed_classes=_ALLOWED_CLASSES,
        url_schemes=_URL_SCHEMES | {"data"} if data_images else _URL_SCHEMES,
        attribute_filter=_only_data_images if data_images else None,
        url_relative=relative_url,
        link_rel="noopener noreferrer",
        strip_comments=True,
        id_prefix=ID_PREFIX,
    )


def render_markdown(
    text: str,
    *,
    asset_url: Callable[[str], str] | None = None,
    translate: Callable[[str], str] | None = None,
    data_images: bool = False,
) -> str:
    """Lesson Markdown to sanitised HTML.

    `asset_url(name)` turns a `files/NAME` reference (NAME unquoted, relative to the course's `files/`)
    into the URL officers fetch; without it the reference is left as written. `translate` gives the
    callout headings; it defaults to `_`, i.e. the UI language, so pass one for the lesson's language
    when the two differ.
    """
    md = _PARSER if translate is None else _make_parser(translate)
    return sanitize_html(md.render(text), asset_url=asset_url, data_images=data_images)


class _HtmlTextAndLinks(HTMLParser):
    """Collects the text of raw HTML, and the `files/` URLs its src/href attributes use."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.urls: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED_WITH_CONTENT:
            self._skip += 1
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED_WITH_CONTENT and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def _scan_html(html: str) -> _HtmlTextAndLinks:
    scanner = _HtmlTextAndLinks()
    scanner.feed(html)
    scanner.close()
    return scanner


def asset_references(text: str) -> list[AssetReference]:
    """Every `files/NAME` a lesson links or embeds, in Markdown or in raw HTML, with its line."""
    found: list[AssetReference] = []

    def add(url: str, line: int) -> None:
        name = _split_files_url(url)
        if name is not None:
            found.append(AssetReference(name=name, line=line))

    for block in _PARSER.parse(text):
        line = block.map[0] + 1 if block.map else 1
        if block.type == "html_block":
            for url in _scan_html(block.content).urls:
                add(url, line)
        for child in block.children or []:
            if child.type == "image":
                add(str(child.attrGet("src") or ""), line)
            elif child.type == "link_open":
                add(str(child.attrGet("href") or ""), line)
            elif child.type == "html_inline":
                for url in _scan_html(child.content).urls:
                    add(url, line)
    return found


@functools.lru_cache(maxsize=1024)
def asset_names(text: str) -> tuple[str, ...]:
    """The distinct `files/NAME`s a lesson refers to, in order; cached by text, because the lesson
    page needs them on every view and parsing the Markdown was a third of the page's time."""
    return tuple(dict.fromkeys(ref.name for ref in asset_references(text)))


def lesson_plain_text(text: str) -> str:
    """The words of a lesson without markup, one block per line: for search and word counts."""
    lines: list[str] = []
    for block in _PARSER.parse(text):
        if block.type in ("fence", "code_block"):
            lines.append(block.content.strip())
        elif block.type == "html_block":
            lines.append(" ".join("".join(_scan_html(block.content).text).split()))
        elif block.type == "inline":
            parts: list[str] = []
            for child in block.children or []:
                if child.type in ("text", "code_inline"):
                    parts.append(child.content)
                elif child.type == "image":
                    parts.extend(grand.content for grand in child.children or [])
                elif child.type in ("softbreak", "hardbreak"):
                    parts.append(" ")
                elif child.type == "html_inline":
                    parts.extend(_scan_html(child.content).text)
            lines.append(" ".join("".join(parts).split()))
    return "\n".join(line for line in lines if line)
