"""Markdown as the migrations render it: ``flaskr.services.base.markdown``
copied at migration 0024, for 0004 (posts' HTML and excerpts), 0010 (their
plain text) and 0017 (comments' HTML). See the package for why it is a copy.

Posts rendered by an upgrade follow these rules; ``flask render-posts``
renders them all again with today's.
"""

from __future__ import annotations

import functools
import re
import typing as t
from urllib.parse import urlsplit

if t.TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.renderer import RendererHTML
    from markdown_it.token import Token
    from markdown_it.utils import EnvType
    from markdown_it.utils import OptionsDict

LINK_SCHEMES = frozenset({"http", "https", "mailto"})
EXCERPT_LENGTH = 280

ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "em", "h2", "h3", "h4", "h5", "h6", "hr",
    "img", "li", "ol", "p", "pre", "strong", "ul",
    "table", "thead", "tbody", "tr", "th", "td", "s", "sup", "section", "input",
    "label", "span",
}  # fmt: skip
_HEADINGS = ("h2", "h3", "h4", "h5", "h6")
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id"},
    "img": {"src", "alt", "title", "srcset", "sizes", "loading"},
    **{heading: {"id"} for heading in _HEADINGS},
    "li": {"id"},
    "input": {"checked", "id"},
    "label": {"for"},
}
#: Classes the renderer gives; any other class is dropped.
_ALIGNMENTS = {"align-left", "align-center", "align-right"}
ALLOWED_CLASSES = {
    "th": _ALIGNMENTS,
    "td": _ALIGNMENTS,
    "ul": {"contains-task-list"},
    "li": {"task-list-item", "footnote-item"},
    "input": {"task-list-item-checkbox"},
    "label": {"task-list-item-label"},
    "sup": {"footnote-ref"},
    "a": {"footnote-backref"},
    "hr": {"footnotes-sep"},
    "section": {"footnotes"},
    "ol": {"footnotes-list"},
    "pre": {"highlight"},
}
#: Where the classes above come from: a task's box is a disabled checkbox.
_FIXED_ATTRIBUTE_VALUES = {"input": {"type": {"checkbox"}}}
_SET_ATTRIBUTES = {"input": {"disabled": "disabled"}}


def _is_allowed_link(url: str) -> bool:
    scheme = urlsplit(url.strip()).scheme.lower()
    return scheme in LINK_SCHEMES or (scheme == "" and not url.startswith("//"))


def _is_same_site(url: str) -> bool:
    parts = urlsplit(url.strip())
    return not parts.scheme and not parts.netloc


#: The address of a picture in a writer's library.
_LIBRARY_PICTURE = re.compile(r"/media/([A-Za-z0-9_-]{22})\.webp")


def _render_image(
    renderer: RendererHTML,
    tokens: t.Sequence[Token],
    index: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    """Images from this site are shown; others become links to them.

    The Content-Security-Policy forbids images from other sites (they would tell
    those sites who reads what), so showing them would only show a broken image.
    """
    token = tokens[index]
    source = str(token.attrGet("src") or "")
    alt = "".join(child.content for child in token.children or [])
    library = _LIBRARY_PICTURE.fullmatch(source)
    if library:
        # A picture of a writer's library: two sizes, for the screen at hand.
        token.attrSet("srcset", f"/media/{library[1]}/small.webp 480w, {source} 1600w")
        token.attrSet("sizes", "(max-width: 45rem) 100vw, 45rem")
        token.attrSet("loading", "lazy")
    if _is_same_site(source):
        return renderer.image(tokens, index, options, env)
    import nh3

    escaped_alt = nh3.clean_text(alt or source)
    return f'<a href="{nh3.clean_text(source)}">{escaped_alt}</a>'


def _shift_heading(
    renderer: RendererHTML,
    tokens: t.Sequence[Token],
    index: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    """A post's highest heading is an ``h2``, whichever level the writer used
    for it: the page's ``h1`` is the title, and headings must not skip a level
    under it (many writers start their sections at ``##``)."""
    if "heading_shift" not in env:
        levels = [int(each.tag[1]) for each in tokens if each.type == "heading_open"]
        env["heading_shift"] = 2 - min(levels)
    token = tokens[index]
    level = max(2, min(int(token.tag[1]) + env["heading_shift"], 6))
    token.tag = f"h{level}"
    return renderer.renderToken(tokens, index, options, env)


def _align_cell(
    renderer: RendererHTML,
    tokens: t.Sequence[Token],
    index: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    """A table cell's alignment as a class: the Content-Security-Policy
    forbids the ``style`` attribute markdown-it gives it."""
    token = tokens[index]
    style = str(token.attrGet("style") or "")
    if style.startswith("text-align:"):
        token.attrs.pop("style", None)
        token.attrSet("class", "align-" + style.removeprefix("text-align:"))
    return renderer.renderToken(tokens, index, options, env)


@functools.cache
def _code_formatter() -> t.Any:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True)


def _highlight(code: str, language: str, attributes: str) -> str:
    """Code in a fence that names a language Pygments knows, as spans with
    Pygments' classes; ``""`` (markdown-it's plain rendering) otherwise."""
    from pygments import highlight
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    if not language:
        return ""
    try:
        lexer = get_lexer_by_name(language.split()[0])
    except ClassNotFound:
        return ""
    spans = highlight(code, lexer, _code_formatter())
    return f'<pre class="highlight"><code>{spans}</code></pre>\n'


def _heading_anchor(title: str) -> str:
    """A heading's id, as GitHub makes it: lower case, hyphens for spaces."""
    words = "".join(c for c in title.lower() if c.isalnum() or c in " -_").split()
    return "-".join(words)[:80] or "section"


@functools.cache
def _parser() -> MarkdownIt:
    """The parser, made on first use: only saving a post needs it, so a web
    worker that only serves pages never imports markdown-it."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.anchors import anchors_plugin
    from mdit_py_plugins.footnote import footnote_plugin
    from mdit_py_plugins.tasklists import tasklists_plugin

    options = {"html": False, "breaks": True, "linkify": True, "highlight": _highlight}
    parser = MarkdownIt("commonmark", options)
    parser.enable(["table", "strikethrough", "linkify"])
    parser.use(footnote_plugin)
    parser.use(tasklists_plugin, label=True)
    parser.use(anchors_plugin, min_level=1, max_level=6, slug_func=_heading_anchor)
    # markdown-it-py's way to choose which links are allowed is to replace
    # this method; its types do not foresee that.
    parser.validateLink = _is_allowed_link  # type: ignore[method-assign]
    parser.add_render_rule("image", _render_image)
    parser.add_render_rule("heading_open", _shift_heading)
    parser.add_render_rule("heading_close", _shift_heading)
    parser.add_render_rule("th_open", _align_cell)
    parser.add_render_rule("td_open", _align_cell)
    return parser


#: What short texts (a profile's bio) may hold: paragraphs, emphasis, code
#: and links, including bare addresses, which become links.
LIGHT_RULES = ("emphasis", "backticks", "link", "autolink", "linkify", "newline")
LIGHT_TAGS = {"a", "br", "code", "em", "p", "strong"}


@functools.cache
def _light_parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    parser = MarkdownIt("zero", {"linkify": True, "breaks": True})
    parser.enable(list(LIGHT_RULES))
    parser.validateLink = _is_allowed_link  # type: ignore[method-assign]
    return parser


@functools.cache
def _allowed_classes() -> dict[str, set[str]]:
    """:data:`ALLOWED_CLASSES`, and Pygments' short token classes on spans."""
    from pygments.token import STANDARD_TYPES

    return {
        **ALLOWED_CLASSES,
        "span": {name for name in STANDARD_TYPES.values() if name},
    }


def _clean(html: str, tags: set[str]) -> str:
    import nh3

    return nh3.clean(
        html,
        tags=tags,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=_allowed_classes(),
        tag_attribute_values=_FIXED_ATTRIBUTE_VALUES,
        set_tag_attribute_values=_SET_ATTRIBUTES,
        url_schemes=set(LINK_SCHEMES),
        link_rel="nofollow ugc noopener noreferrer",
    )


def render_light(source: str) -> str:
    """A short text with light Markdown (:data:`LIGHT_RULES`) as clean HTML;
    every other mark stays as typed."""
    return _clean(_light_parser().render(source), LIGHT_TAGS)


def render(source: str) -> str:
    """Markdown ``source`` as clean HTML."""
    # nh3, like markdown-it, is imported on first use: only saves need them.
    return _clean(_parser().render(source), ALLOWED_TAGS)


#: Inline tokens whose text a reader sees. An image shows as its alt text
#: (its children), and a line break as a space.
_TEXT_TOKENS = frozenset({"text", "code_inline"})
_BREAK_TOKENS = frozenset({"softbreak", "hardbreak"})
#: Block tokens that end a line of plain text.
_BLOCK_ENDS = frozenset(
    {"paragraph_close", "heading_close", "list_item_close", "tr_close"}
)
#: Block tokens that end a piece of a line: table cells.
_CELL_ENDS = frozenset({"th_close", "td_close"})


def _inline_text(tokens: t.Sequence[Token], pieces: list[str]) -> None:
    for token in tokens:
        if token.type in _TEXT_TOKENS:
            pieces.append(token.content)
        elif token.type in _BREAK_TOKENS:
            pieces.append("\n")
        elif token.children:
            _inline_text(token.children, pieces)


def plain_text(source: str) -> str:
    """What a reader of ``source`` rendered reads, without markup: one line
    per paragraph, heading, list item or line of code.

    Search indexes it and shows pieces of it, lists show its start: neither
    should show Markdown's marks, nor split a word from its punctuation where
    the Markdown put an emphasis or a link.
    """
    pieces: list[str] = []
    for token in _parser().parse(source):
        if token.type == "inline":
            _inline_text(token.children or [], pieces)
        elif token.type in ("code_block", "fence"):
            pieces.append(token.content)
        elif token.type in _BLOCK_ENDS:
            pieces.append("\n")
        elif token.type in _CELL_ENDS:
            pieces.append(" ")
    lines = (" ".join(line.split()) for line in "".join(pieces).splitlines())
    return "\n".join(line for line in lines if line)


def shorten(text: str, length: int = EXCERPT_LENGTH) -> str:
    """The start of ``text`` on one line, cut at a word."""
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    return text[:length].rsplit(" ", 1)[0] + "…"


def excerpt(source: str, length: int = EXCERPT_LENGTH) -> str:
    """The start of the text of ``source``, without markup, cut at a word."""
    return shorten(plain_text(source), length)
