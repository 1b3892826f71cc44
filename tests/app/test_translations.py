"""Every translation catalog is complete and current, and the .po files are the only source.

One parametrised test per rule over every catalog (core and each domain) and both UI languages, so a new
domain catalog is checked without a new test file.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
CORE_SOURCES = ["lms/*.py", "lms/home", "lms/auth", "lms/org", "templates/base.html", "templates/_macros", "templates/_partials",
                "templates/errors", "templates/home", "templates/auth", "templates/org"]
CORE_PACKAGES = {"home", "auth", "org"}


def _domains() -> list[str]:
    found = sorted(p.parent.name for p in (ROOT / "lms").glob("*/translations") if p.is_dir())
    return ["core", *[d for d in found if d not in CORE_PACKAGES]]


def _po(domain: str, lang: str) -> Path:
    base = ROOT / "lms" if domain == "core" else ROOT / "lms" / domain
    return base / "translations" / lang / "LC_MESSAGES" / "messages.po"


def _sources(domain: str) -> list[str]:
    """The same source lists as `make messages` (the Makefile's messages target)."""
    if domain == "core":
        return [str(p.relative_to(ROOT)) for pattern in CORE_SOURCES for p in sorted(ROOT.glob(pattern))]
    return [f"lms/{domain}"] + ([f"templates/{domain}"] if (ROOT / "templates" / domain).is_dir() else [])


def _read(path: Path):
    with open(path, "rb") as handle:
        return read_po(handle)


def _key(message) -> tuple[str, str | None]:
    return (message.id if isinstance(message.id, str) else message.id[0], message.context)


@pytest.mark.parametrize("domain", _domains())
def test_every_vietnamese_message_is_translated_and_none_is_fuzzy(domain):
    problems = []
    for message in _read(_po(domain, "vi")):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(_key(message))
    assert problems == []


@pytest.mark.parametrize("domain", _domains())
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_placeholder_of_the_source_survives_in_the_translation(domain, lang):
    problems = []
    for message in _read(_po(domain, lang)):
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set().union(*(PLACEHOLDER.findall(s) for s in sources))
        for string in strings:
            if string and not set(PLACEHOLDER.findall(string)) <= wanted | {"num"}:
                problems.append((sources[0], string))
            if string and not set(PLACEHOLDER.findall(sources[0])) - {"num"} <= set(PLACEHOLDER.findall(string)):
                problems.append((sources[0], string))
    assert problems == []


@pytest.mark.parametrize("domain", _domains())
def test_the_catalogs_hold_every_message_in_the_code(domain, tmp_path):
    """A string added to a template or module without `make messages` would show untranslated."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "pybabel"), "--quiet", "extract", "--no-location", "-F", "babel.cfg",
         "-k", "lazy", "-k", "N_", "-k", "ngettext:1,2", "-o", str(pot), *_sources(domain)],
        cwd=ROOT, check=True,
    )
    extracted = {_key(m) for m in _read(pot) if m.id}
    for lang in ("vi", "en"):
        present = {_key(m) for m in _read(_po(domain, lang)) if m.id}
        assert extracted - present == set(), lang


def test_one_msgid_has_one_vietnamese_text_across_catalogs():
    """Catalogs merge into one table at run time, so a msgid shared by two must read the same in both."""
    seen: dict[tuple[str, str | None], set[str]] = {}
    for domain in _domains():
        for message in _read(_po(domain, "vi")):
            if message.id and isinstance(message.id, str):
                seen.setdefault(_key(message), set()).add(message.string)
    assert {k: v for k, v in seen.items() if len(v) > 1} == {}


def test_the_po_files_are_the_only_source_of_translations():
    assert not list(ROOT.glob("tools/vi_*.py"))
    assert not (ROOT / "tools" / "fill_po.py").exists()
