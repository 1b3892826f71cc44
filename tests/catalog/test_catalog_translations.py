"""The Vietnamese catalogs of the catalog and progress domains are complete: nothing untranslated or
fuzzy, and every placeholder of the English source survives in the translation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.mark.parametrize("domain", ["catalog", "progress"])
def test_vietnamese_catalog_has_no_untranslated_or_fuzzy_entry(domain):
    with open(ROOT / f"lms/{domain}/translations/vi/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        source = message.id if isinstance(message.id, str) else message.id[0]
        if message.fuzzy or not all(strings):
            problems.append(source)
        elif set(PLACEHOLDER.findall(source)) != set(PLACEHOLDER.findall(strings[0])):
            problems.append(f"placeholders differ: {source}")
    assert problems == []
