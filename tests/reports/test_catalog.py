"""The reports domain's Vietnamese catalog is complete."""

from __future__ import annotations

from babel.messages.pofile import read_po


def test_every_reports_message_has_a_vietnamese_translation():
    with open("lms/reports/translations/vi/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle)
    missing = [m.id for m in catalog if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    assert missing == []
    assert [m.id for m in catalog if m.id and m.fuzzy] == []
