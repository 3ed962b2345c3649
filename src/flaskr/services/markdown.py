"""Markdown for posts: CommonMark in, safe HTML out.

Two walls. markdown-it-py runs with raw HTML turned off (a ``<script>`` in a post
is shown as text) and accepts only http, https, mailto and same-site links.
nh3 (Ammonia) then cleans the HTML against an allow-list, in case the first
wall has a gap. Posts are rendered when saved, not on every view.
"""

from __future__ import annotations

import functools
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
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}


def _is_allowed_link(url: str) -> bool:
    scheme = urlsplit(url.strip()).scheme.lower()
    return scheme in LINK_SCHEMES or (scheme == "" and not url.startswith("//"))


def _is_same_site(url: str) -> bool:
    parts = urlsplit(url.strip())
    return not parts.scheme and not parts.netloc


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
    """A post's ``#`` heading is an ``h2``: the page's ``h1`` is the title."""
    token = tokens[index]
    level = min(int(token.tag[1]) + 1, 6)
    token.tag = f"h{level}"
    return renderer.renderToken(tokens, index, options, env)


@functools.cache
def _parser() -> MarkdownIt:
    """The parser, made on first use: only saving a post needs it, so a web
    worker that only serves pages never imports markdown-it."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": False, "breaks": True})
    # markdown-it-py's way to choose which links are allowed is to replace
    # this method; its types do not foresee that.
    parser.validateLink = _is_allowed_link  # type: ignore[method-assign]
    parser.add_render_rule("image", _render_image)
    parser.add_render_rule("heading_open", _shift_heading)
    parser.add_render_rule("heading_close", _shift_heading)
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


def _clean(html: str, tags: set[str]) -> str:
    import nh3

    return nh3.clean(
        html,
        tags=tags,
        attributes=ALLOWED_ATTRIBUTES,
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
_BLOCK_ENDS = frozenset({"paragraph_close", "heading_close", "list_item_close"})


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
