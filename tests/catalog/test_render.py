"""The lesson renderer: Markdown features officers see, and no trainer input that can run in a browser."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.markup import (
    AssetReference,
    asset_references,
    heading_slug,
    lesson_plain_text,
    render_markdown,
)


class Tags(HTMLParser):
    """Every start tag of a fragment with its attributes, as a browser's tokenizer would see them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    handle_startendtag = handle_starttag

    def find(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]


def asset(name: str) -> str:
    return f"/courses/rights-basics/files/{name}"


# --- Markdown features ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "heading"),
    [
        ("key-points", "Key points"),
        ("scenario", "Scenario"),
        ("note", "Note"),
        ("warning", "Warning"),
    ],
)
def test_callout_boxes_render_as_asides_with_a_heading(name, heading):
    html = render_markdown(f"::: {name}\nRemember **this**.\n:::\n")
    assert f'<aside class="callout callout-{name}">' in html
    assert f'<p class="callout-title">{heading}</p>' in html
    assert "<strong>this</strong>" in html


def test_callout_heading_goes_through_the_given_translation():
    html = render_markdown("::: key-points\n- Một\n:::\n", translate={"Key points": "Ghi nhớ"}.get)
    assert '<p class="callout-title">Ghi nhớ</p>' in html


def test_callout_may_give_its_own_heading_which_is_escaped():
    html = render_markdown("::: note Nguồn <b>tham khảo</b>\nText\n:::\n")
    assert '<p class="callout-title">Nguồn &lt;b&gt;tham khảo&lt;/b&gt;</p>' in html


def test_unknown_container_name_is_left_as_text():
    html = render_markdown("::: danger\nText\n:::\n")
    assert "<aside" not in html and "::: danger" in html


def test_files_links_and_images_go_through_asset_url():
    html = render_markdown(
        "![Biểu đồ](files/chart.png) [handout](files/handout.pdf) [site](https://ohchr.org)",
        asset_url=asset,
    )
    tags = Tags(html)
    assert tags.find("img") == [{"src": asset("chart.png"), "alt": "Biểu đồ", "loading": "lazy"}]
    links = tags.find("a")
    assert links[0]["href"] == asset("handout.pdf")
    assert links[1]["href"] == "https://ohchr.org"
    assert all(link["rel"] == "noopener noreferrer" for link in links)


def test_asset_url_gets_the_unquoted_name_and_raw_html_is_rewritten_too():
    seen: list[str] = []

    def record(name: str) -> str:
        seen.append(name)
        return asset(name)

    render_markdown('![a](<files/my chart.png>) <a href="files/b%20c.pdf">b</a>', asset_url=record)
    assert seen == ["my chart.png", "b c.pdf"]


def test_without_asset_url_files_links_are_left_as_written():
    html = render_markdown("![a](files/chart.png)")
    assert Tags(html).find("img")[0]["src"] == "files/chart.png"


@pytest.mark.parametrize(
    ("ext", "tag"),
    [("mp4", "video"), ("webm", "video"), ("mp3", "audio"), ("ogg", "audio"), ("m4a", "audio")],
)
def test_media_in_image_syntax_renders_a_player_that_does_not_preload(ext, tag):
    html = render_markdown(f"![Phỏng vấn mẫu](files/talk.{ext})", asset_url=asset)
    (player,) = Tags(html).find(tag)
    assert player["src"] == asset(f"talk.{ext}")
    assert player["preload"] == "none"
    assert "controls" in player
    # A fallback link for browsers without the codec.
    assert Tags(html).find("a")[0]["href"] == asset(f"talk.{ext}")
    assert "Phỏng vấn mẫu" in html


def test_raw_html_players_are_forced_to_show_controls_and_not_preload():
    html = render_markdown('<video src="files/a.mp4" autoplay preload="auto"></video>')
    (player,) = Tags(html).find("video")
    assert player["preload"] == "none" and "controls" in player and "autoplay" not in player


def test_headings_get_ascii_ids_prefixed_against_page_collisions():
    html = render_markdown("## Quyền con người là gì?\n\n## Quyền con người là gì?\n\n### Đồng ý\n")
    ids = [attrs["id"] for _tag, attrs in Tags(html).tags]
    assert ids == ["lc-quyen-con-nguoi-la-gi", "lc-quyen-con-nguoi-la-gi-1", "lc-dong-y"]


def test_heading_slug_folds_vietnamese_letters():
    assert heading_slug("Điều 19 – Tự do ngôn luận") == "dieu-19-tu-do-ngon-luan"
    assert heading_slug("!!!") == "section"


def test_footnote_links_point_at_their_prefixed_ids():
    html = render_markdown("Tuyên ngôn[^1].\n\n[^1]: Nghị quyết 217 A (III).\n")
    tags = Tags(html)
    ids = {attrs["id"] for _tag, attrs in tags.tags if "id" in attrs}
    hrefs = {attrs["href"][1:] for attrs in tags.find("a") if attrs.get("href", "").startswith("#")}
    assert hrefs and hrefs <= ids
    assert all(i.startswith("lc-") for i in ids)


def test_in_page_links_written_by_trainers_follow_the_id_prefix():
    html = render_markdown("## Nguồn\n\n[xem nguồn](#nguon)")
    assert Tags(html).find("a")[0]["href"] == "#lc-nguon"


def test_tables_scroll_in_their_own_box_and_alignment_uses_classes_not_styles():
    html = render_markdown("| Văn bản | Năm |\n|:--|--:|\n| Hiến pháp | 2013 |\n")
    assert re.search(r'<div class="table-scroll" role="region" tabindex="0">\s*<table>', html)
    assert "</table>\n</div>" in html
    assert "style" not in html
    assert '<td class="align-right">2013</td>' in html


def test_strikethrough_and_footnotes_and_tables_are_enabled():
    html = render_markdown("~~cũ~~\n")
    assert "<s>cũ</s>" in html


def test_lesson_plain_text_keeps_words_and_drops_markup():
    text = lesson_plain_text(
        "## Điều 19\n\nQuyền **tự do** ngôn luận[^1] và [tiếp cận](https://x.vn) thông tin.\n\n"
        "![Biểu đồ quyền](files/chart.png)\n\n<p>Đoạn <b>HTML</b></p>\n\n<script>alert(1)</script>\n\n"
        "::: note\nGhi chú &amp; lưu ý\n:::\n\n[^1]: Hiến pháp 2013.\n"
    )
    assert text.split("\n") == [
        "Điều 19",
        "Quyền tự do ngôn luận và tiếp cận thông tin.",
        "Biểu đồ quyền",
        "Đoạn HTML",
        "Ghi chú & lưu ý",
        "Hiến pháp 2013.",
    ]


def test_asset_references_report_each_files_link_with_its_line():
    text = "Một\n\n![a](files/chart.png)\n\nHai [b](files/sub/handout.pdf#page=2) [c](https://x.vn)\n\n<img src='files/raw.png'>\n"
    assert asset_references(text) == [
        AssetReference("chart.png", 3),
        AssetReference("sub/handout.pdf", 5),
        AssetReference("raw.png", 7),
    ]


# --- nothing a trainer writes can run ----------------------------------------------------------------------

XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<img src=x OnErRoR=alert(1)>",
    '<img src="files/a.png" srcset="javascript:alert(1)">',
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>x</details>",
    "<video src=x onerror=alert(1)><source onerror=alert(1)></video>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](<javascript:alert(1)>)",
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&colon;alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    "<svg><script>alert(1)</script></svg>",
    "<svg onload=alert(1)>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="evil.swf"></object><embed src="evil.swf">',
    '<form action="https://evil.example"><input name=p><button>Gửi</button></form>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<div style="position:fixed;inset:0">phủ kín trang</div>',
    "<style>body{display:none}</style>",
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<a href="#" id="csrf_token" name="config">clobber</a>',
    "::: note\n<img src=x onerror=alert(1)>\n:::",
    '![x" onerror="alert(1)](files/a.png)',
    '[x](files/a.png"onmouseover="alert(1))',
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "Text[^1]\n\n[^1]: <script>alert(1)</script>",
    "<!-- <script>alert(1)</script> -->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<template><script>alert(1)</script></template>",
]

_SAFE_SCHEMES = ("http:", "https:", "mailto:")
_URL_ATTRIBUTES = {
    "href",
    "src",
    "srcset",
    "action",
    "formaction",
    "xlink:href",
    "poster",
    "data",
    "background",
}
_FORBIDDEN_TAGS = {
    "script", "style", "iframe", "frame", "object", "embed", "form", "input", "button", "textarea",
    "select", "svg", "math", "meta", "base", "link", "template", "body",
}  # fmt: skip


def assert_harmless(html: str) -> None:
    """No script, handler, style, dangerous tag or non-http(s)/mailto URL survives."""
    assert "<script" not in html.lower()
    for tag, attrs in Tags(html).tags:
        assert tag not in _FORBIDDEN_TAGS, html
        for name, value in attrs.items():
            assert not name.startswith("on"), html
            assert name != "style", html
            if name in _URL_ATTRIBUTES:
                # What a browser would do: drop control characters and whitespace, compare lowercase.
                url = re.sub(r"[\x00-\x20]", "", value).lower()
                scheme = re.match(r"^([a-z][a-z0-9+.-]*):", url)
                assert scheme is None or url.startswith(_SAFE_SCHEMES), html
        if tag == "a" and "href" in attrs:
            assert attrs["rel"] == "noopener noreferrer"
        if "id" in attrs:
            assert attrs["id"].startswith("lc-"), html


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_xss_payload_is_rendered_harmless(payload):
    assert_harmless(render_markdown(payload))
    assert_harmless(render_markdown(payload, asset_url=asset))


def test_xss_payload_text_stays_readable_where_it_is_text():
    html = render_markdown("Viết `<script>` trong đoạn mã là an toàn.")
    assert "<code>&lt;script&gt;</code>" in html


MARKDOWN_PIECES = st.sampled_from(
    [
        "<", ">", "&", "&#", ";", "x", "\"", "'", "`", "\n", "\n\n", " ", "(", ")", "[", "]", "!", ":", "=",
        "#", "*", "|", "-", ":::", "::: note", "[^1]", "[^1]: ", "<script>", "</script>", "<img src=x ",
        "onerror=", "onload=alert(1)", "javascript:", "JaVaScRiPt:", "java\tscript:", "&#106;", "&#x6A;",
        "data:text/html,", "data:image/png;base64,AAAA", "vbscript:", "<a href=", "</a>", "](", "![",
        "files/", "<svg", "<iframe", "style=", "<style>", "expression(", "<!--", "-->", "\x00", "\u2028",
        "| a | b |\n|---|---|\n", "```\n", "    ", "<math>", "<details open ", "ontoggle=", "srcset=",
    ]
)  # fmt: skip
MARKDOWN = st.lists(st.one_of(MARKDOWN_PIECES, st.text(max_size=8)), max_size=40).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MARKDOWN)
def test_random_markdown_never_raises_and_never_yields_script_handler_or_javascript_url(text):
    html = render_markdown(text, asset_url=asset)
    assert_harmless(html)
    assert isinstance(lesson_plain_text(text), str)
    asset_references(text)


@pytest.mark.parametrize(
    "unsafe",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<a href="jav&#x09;ascript:alert(1)" rel="noopener noreferrer">x</a>',
        '<p style="color:red">x</p>',
        "<iframe></iframe>",
        '<img src="data:image/png;base64,AAAA">',
        '<h2 id="main">x</h2>',
    ],
)
def test_the_harmlessness_check_itself_rejects_unsanitised_html(unsafe):
    """Guards the guard: if assert_harmless accepted these, the XSS tests above could not fail."""
    with pytest.raises(AssertionError):
        assert_harmless(unsafe)
