"""What "the XSS corpus is inert" means on a page, and how a page's form is filled like a browser would.

``live_payloads(html)`` reads a page the way a browser builds it and names every piece of the corpus that
would run: a ``<script>`` whose code carries it, an ``on*=`` handler attribute, a ``javascript:`` URL in
a URL attribute, an ``<iframe>``/``<object>``/``<embed>``/``<frame>``/``<base>``, or a template
expression that was evaluated (``{{ 7*7 }}`` became 49). The checks are structural, not searches for the
payload's text, so an escaped payload (which a reader sees as text) never counts and a mangled but live
one always does.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# The corpus: each piece carries a marker so a finding says which piece got through. The most dangerous
# pieces come first: a field too short for all of them gets the first ones (escaping is the same for
# every character, so one live `<` or `"` is what a short text field can show).
XSS = [
    '<script>alert("XSS1")</script>',
    '<img src=x onerror=alert("XSS2")>',
    '"><svg onload=alert("XSS3")>',
    "'><a href=\"javascript:alert('XSS4')\">x</a>",
    '<iframe src="//evil.example/XSS5"></iframe>',
    "{{ 7*7 }}XSS6",
    "<details open ontoggle=alert('XSS7')>",
    '<object data="javascript:alert(\'XSS8\')"></object>',
    "<a href=\"JaVaScRiPt&colon;alert('XSS9')\">y</a>",
    "<svg><script>alert('XSS10')</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('XSS11')></style></mglyph></table></mtext></math>",
    "[md](javascript:alert('XSS12'))",
    '<form action="javascript:alert(\'XSS13\')"><button>z</button></form>',
    "<embed src=\"javascript:alert('XSS14')\">",
    "<base href=\"//evil.example/XSS15/\">",
    "javascript:alert('XSS16')",
]

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "poster", "background", "srcdoc"}
FORBIDDEN_TAGS = {"iframe", "object", "embed", "frame", "frameset", "base", "applet"}
SCRIPT_TYPES = {"", "text/javascript", "application/javascript", "module"}
_CONTROL = re.compile(r"[\x00-\x20]+")


def payload(marker: str, limit: int = 100_000) -> str:
    """``marker`` (the harmless text that must stay visible) followed by as much of the corpus as fits."""
    text = marker
    for piece in XSS:
        if len(text) + 1 + len(piece) > limit:
            break
        text += " " + piece
    return text


def gift_escape(text: str) -> str:
    """Text as GIFT reads it back literally (its special characters escaped with a backslash)."""
    return re.sub(r"([~=#{}:\\])", r"\\\1", text)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script: bool = False
        # Python reads <style> as raw text, but inside <svg> or <math> a browser parses tags there
        # (mutation XSS): a tag with a handler inside a style block counts.
        self._style: bool = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=>")
            if name in URL_ATTRIBUTES and value and _CONTROL.sub("", value).lower().startswith(
                    ("javascript:", "vbscript:", "data:text/html")):
                self.found.append(f"<{tag} {name}={value[:40]}>")
        if tag == "script":
            kind = (dict(attrs).get("type") or "").strip().lower()
            self._script = kind in SCRIPT_TYPES
        if tag == "style":
            self._style = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = False
        if tag == "style":
            self._style = False

    def handle_data(self, data: str) -> None:
        if self._script and re.search(r"alert\(|XSS\d", data):
            self.found.append(f"<script>{data.strip()[:40]}")
        if self._style and re.search(r"<\w+[^>]*\son\w+\s*=|javascript:", data, re.IGNORECASE):
            self.found.append(f"<style>{data.strip()[:40]}")
        if "49XSS6" in data:
            self.found.append("{{ 7*7 }} evaluated")


def live_payloads(html: str) -> list[str]:
    """Every piece of the corpus that a browser would run on this page."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.found


class _Form(HTMLParser):
    """The fields of the first form whose action ends with ``action`` (or the first form with fields)."""

    def __init__(self, action: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.values: list[tuple[str, str]] = []
        self._in = False
        self._done = False
        self._select: str | None = None
        self._option: tuple[str, bool] | None = None
        self._first_option: str | None = None
        self._chosen = False
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done:
            target = a.get("action", "").split("?")[0]
            posts = a.get("method", "get").lower() == "post"
            self._in = posts and (self.action is None or not target or target.endswith(self.action))
            return
        if not self._in:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.values.append((name, a.get("value", "y")))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self.values.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select, self._first_option, self._chosen = name, None, False
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                self.values.append((self._select, value))
                self._chosen = True
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in:
            self._in, self._done = False, True
        elif tag == "select" and self._select:
            if not self._chosen and self._first_option is not None:
                self.values.append((self._select, self._first_option))
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.values.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text += data


def form_fields(html: str, action: str | None = None) -> dict[str, str | list[str]]:
    """A form's fields as a browser would send them untouched (repeated names become lists)."""
    reader = _Form(action)
    reader.feed(html)
    out: dict[str, str | list[str]] = {}
    for name, value in reader.values:
        if name in out:
            existing = out[name]
            out[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[name] = value
    return out
