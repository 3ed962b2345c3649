from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from flaskr.services.base.markdown import ALLOWED_TAGS
from flaskr.services.base.markdown import excerpt
from flaskr.services.base.markdown import plain_text
from flaskr.services.base.markdown import render


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
        ("# Title", '<h2 id="title">Title</h2>'),
        ("### Deep", '<h2 id="deep">Deep</h2>'),
        ("# Top\n\n### Deep", '<h2 id="top">Top</h2>\n<h4 id="deep">Deep</h4>'),
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


# GitHub's extensions, and highlighted code.


@pytest.mark.parametrize(
    ("source", "html"),
    [
        (
            "| a | b | c |\n|:-|:-:|--:|\n| 1 | 2 | 3 |",
            '<th class="align-left">a</th>\n<th class="align-center">b</th>\n'
            '<th class="align-right">c</th>',
        ),
        ("~~gone~~", "<s>gone</s>"),
        ("see www.example.org", '<a href="http://www.example.org"'),
        (
            "- [x] done",
            '<li class="task-list-item"><label><input'
            ' class="task-list-item-checkbox" checked="checked" type="checkbox"'
            ' disabled="disabled"> done</label></li>',
        ),
        ("Text[^1].\n\n[^1]: A note.", '<li id="fn1" class="footnote-item">'),
        ("## Why *we* do it", '<h2 id="why-we-do-it">Why <em>we</em> do it</h2>'),
        ("## One\n\n### Two", '<h2 id="one">One</h2>\n<h3 id="two">Two</h3>'),
    ],
)
def test_github_extensions(source, html):
    assert html in render(source)


def test_table_cells_carry_no_style_attribute():
    """The Content-Security-Policy forbids style attributes: alignments are
    classes."""
    assert "style=" not in render("| a |\n|--:|\n| 1 |")


def test_code_is_highlighted_at_save():
    html = render("```python\ndef f():\n    return 'x'\n```")
    assert html.startswith('<pre class="highlight"><code><span class="k">def</span>')
    assert '<span class="s1">&#39;x&#39;</span>' in html or "'x'" in html
    # A language Pygments does not know is plain code.
    assert render("```nosuchlanguage\na < b\n```") == (
        "<pre><code>a &lt; b\n</code></pre>\n"
    )


@pytest.mark.parametrize(
    "source",
    [
        '```python" onclick="alert(1)\nx\n```',
        "```html\n<script>alert(1)</script>\n```",
        "- [x] <img src=x onerror=alert(1)>",
        "| <script> |\n|--|\n| x |",
        "[^1]\n\n[^1]: [x](javascript:alert(1))",
        '## <span class="k" onclick="x">h</span>',
    ],
)
def test_hostile_extensions_are_inert(source):
    for tag, attributes in parse(render(source)):
        assert tag in ALLOWED_TAGS, tag
        for name, value in attributes:
            assert not name.startswith("on"), (tag, name)
            assert "javascript" not in (value or "").lower(), (tag, name, value)
            if name == "type":
                assert value == "checkbox"


def test_task_boxes_cannot_be_ticked():
    html = render("- [ ] todo")
    assert 'disabled="disabled"' in html


def test_table_text_is_searchable_with_cells_apart():
    assert plain_text("| one | two |\n|--|--|\n| three | four |") == (
        "one two\nthree four"
    )


def test_the_highlight_stylesheet_is_up_to_date():
    """``static/highlight.css`` is made by ``highlight_css()``; after changing
    the styles, write it again: ``python -c "from flaskr.services.base.markdown
    import highlight_css; print(highlight_css(), end='')" >
    src/flaskr/static/highlight.css``."""
    from pathlib import Path

    from flaskr.services.base.markdown import highlight_css

    path = Path(__file__).parents[1] / "src/flaskr/static/highlight.css"
    assert path.read_text() == highlight_css()
    assert "@media (prefers-color-scheme: dark)" in highlight_css()


def test_every_code_colour_reads_on_its_background():
    """Pygments' 'default' comments (#3D7B7B) were 4.45:1 on the code's
    background; Lighthouse and axe found them on a post with a comment."""
    import re

    from flaskr.services.base import markdown

    css = markdown.highlight_css()
    light, dark = css.split("@media (prefers-color-scheme: dark)")
    for part, background in (
        (light, markdown.LIGHT_CODE_BACKGROUND),
        (dark, markdown.DARK_CODE_BACKGROUND),
    ):
        colours = re.findall(r"(?<![-\w])color: (#[0-9A-Fa-f]{3,6})\b", part)
        assert len(colours) > 20
        weak = [c for c in colours if markdown.contrast(c, background) < 4.5]
        assert weak == [], weak
    # Colours that already read are left as Pygments made them.
    assert "color: #008000" in light


def test_render_posts_renders_every_post_again(app, runner):
    import sqlalchemy as sa

    from flaskr.db import db
    from flaskr.models import Post
    from tests.conftest import make_post

    with app.app_context():
        for number in range(3):
            post = make_post(1, f"table {number}", "| a |\n|--|\n| 1 |")
            post.body_html = "<p>rendered by an older Flaskr</p>"
            db.session.add(post)
        db.session.commit()
    result = runner.invoke(args=["render-posts"])
    assert result.exit_code == 0, result.output
    assert "Rendered 4 posts again." in result.output  # with the test data's one
    with app.app_context():
        pages = db.session.scalars(sa.select(Post.body_html)).all()
    assert len(pages) == 4
    assert all("older Flaskr" not in page for page in pages)
    assert sum("<table>" in page for page in pages) == 3
