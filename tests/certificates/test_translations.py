"""The verification page speaks Vietnamese by default (catalog completeness: tests/app/test_translations.py)."""

from __future__ import annotations


def test_the_verification_page_is_vietnamese_by_default(client, app):
    page = client.get("/verify").get_data(as_text=True)
    assert "Tra cứu giấy chứng nhận" in page
    assert "Số hiệu giấy chứng nhận" in page
