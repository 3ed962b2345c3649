from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from flaskr.services.markdown import ALLOWED_TAGS
from flaskr.services.markdown import excerpt
from flaskr.services.markdown import plain_text
from flaskr.services.markdown import render


def parse(html):
    """The elements in ``html``, as (tag, attributes) pairs."""
    elements = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            elements.append((tag, attrs))

    Collector().feed(html)
    return elements


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("# Title", "<h2>Title</h2>"),
        ("### Deep", "<h4>Deep</h4>"),
        (
            "*em* **strong** `code`",
            "<em>em</em> <strong>strong</strong> <code>code</code>",
        ),
        ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
        ("1. a\n2. b", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>"),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        ("```\nx < y\n```", "<pre><code>x &lt; y\n</code></pre>"),
        ("    indented code", "<pre><code>indented code\n</code></pre>"),
        ("one\ntwo", "<p>one<br>\ntwo</p>"),
        ("![logo](/static/logo.png)", '<img src="/static/logo.png" alt="logo">'),
    ],
)
def test_commonmark(source, html):
    assert html in render(source)


@pytest.mark.parametrize(
    "url",
    ["https://example.org/a?b=c", "http://example.org", "mailto:a@example.org", "/2"],
)
def test_allowed_links(url):
    html = render(f"[link]({url})")
    assert f'href="{url.replace("&", "&amp;")}"' in html
    assert 'rel="nofollow ugc noopener noreferrer"' in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "<a href='javascript:alert(1)'>x</a>",
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](  javascript:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](//evil.example/)",
        "![x](javascript:alert(1))",
        '[x](https://ok.example "title" onclick="alert(1)")',
        "<iframe src=https://evil.example></iframe>",
        "<style>body{display:none}</style>",
        "[x](<javascript:alert(1)>)",
        "<svg onload=alert(1)>",
    ],
)
def test_hostile_markdown_is_inert(source):
    elements = parse(render(source))
    for tag, attributes in elements:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attributes:
            assert not name.startswith("on"), name
            if name in ("href", "src"):
                scheme = urlsplit(value).scheme.lower()
                assert scheme in ("http", "https", "mailto", ""), value
                assert not value.startswith("//"), value


def test_raw_html_is_shown_as_text():
    assert render("<b>bold?</b>") == "<p>&lt;b&gt;bold?&lt;/b&gt;</p>\n"


def test_images_from_other_sites_become_links():
    html = render("![a cat](https://images.example/cat.png)")
    assert "<img" not in html
    assert '<a href="https://images.example/cat.png"' in html
    assert ">a cat</a>" in html


def test_excerpt():
    source = "# Heading\n\nSome *emphasis* and `code`.\n\n- item"
    assert excerpt(source) == "Heading Some emphasis and code. item"
    long = " ".join(["word"] * 100)
    cut = excerpt(long, 30)
    assert cut == "word word word word word word…"
    assert excerpt("<b>raw</b>") == "<b>raw</b>"  # plain text; templates escape it


def test_plain_text_is_what_a_reader_reads():
    source = (
        "## A *fine* heading\n\n"
        "With **bold**, *italic* and a [link to Flask](https://flask.example).\n"
        "Next line, `code`!\n\n"
        "> quoted *python*\n\n"
        "- one\n- two ![a cat](/images/1.webp)\n\n"
        "```\nprint('hi')\n```\n"
    )
    assert plain_text(source) == (
        "A fine heading\n"
        "With bold, italic and a link to Flask.\n"
        "Next line, code!\n"
        "quoted python\n"
        "one\n"
        "two a cat\n"
        "print('hi')"
    )


def test_plain_text_keeps_what_looks_like_markup_as_text():
    assert plain_text("a &amp; b <i>not html</i> 2 \\* 3") == (
        "a & b <i>not html</i> 2 * 3"
    )
