"""A trainer writes a lesson on the web and watches the preview follow the text."""

from __future__ import annotations

from tests.e2e.browser import Ui

FIRST = """## Quyền được thông tin

Công dân có quyền tiếp cận thông tin theo Điều 25 Hiến pháp năm 2013.

<script>window.__lesson_xss = 1</script>
<a href="javascript:window.__lesson_xss = 2">bấm vào đây</a>

::: key-points
- Trả lời đúng hạn luật định.
:::
"""


def test_trainer_previews_a_lesson_edit_live(ui: Ui):
    page = ui.page
    ui.login("trainer")
    ui.follow(ui.menu_link("Soạn khóa học"))
    ui.follow(page.get_by_role("link", name="Khóa học mới"))
    page.get_by_label("Mã", exact=True).fill("e2e-access-to-information")
    page.get_by_label("Ngôn ngữ", exact=True).fill("vi")
    page.get_by_label("Tiêu đề", exact=True).fill("Tiếp cận thông tin cho người dân")
    page.get_by_label("Tóm tắt hiển thị trong danh mục").fill("Học phần ngắn về quyền tiếp cận thông tin.")
    page.get_by_label("Số giờ học dự kiến").fill("1")
    ui.submit(page.get_by_role("button", name="Tạo khóa học"))

    # A new course starts with one module, ready for its first lesson.
    ui.follow(page.get_by_role("link", name="Thêm bài học").first)

    page.get_by_label("Tiêu đề", exact=True).fill("Quyền tiếp cận thông tin")
    page.get_by_label("Thời gian đọc (phút)").fill("10")
    body = page.get_by_label("Nội dung (Markdown)")
    body.fill(FIRST)
    preview = page.locator(".preview-body")
    preview.locator("h2", has_text="Quyền được thông tin").wait_for()
    assert "Trả lời đúng hạn luật định." in preview.inner_text()
    assert preview.locator(".callout-key-points").count() == 1
    # What a trainer types is sanitised exactly as officers will see it: no script, no javascript: link.
    assert not preview.locator("script").count()
    assert (preview.locator("a", has_text="bấm vào đây").get_attribute("href") or "").find("javascript") < 0
    assert page.evaluate("() => window.__lesson_xss") is None
    ui.submit(page.get_by_role("button", name="Lưu (tạo lần sửa mới)"))

    # Editing again: the preview follows each change before anything is saved.
    if "/lessons/" not in page.url:
        ui.follow(page.get_by_role("link", name="Quyền tiếp cận thông tin").first)
    body = page.get_by_label("Nội dung (Markdown)")
    assert "Điều 25" in body.input_value()
    preview.locator("h2", has_text="Quyền được thông tin").wait_for()
    body.press_sequentially("\n## Thời hạn trả lời\n")
    preview.locator("h2", has_text="Thời hạn trả lời").wait_for()
    assert page.evaluate("() => window.__lesson_xss") is None
