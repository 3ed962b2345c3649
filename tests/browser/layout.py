"""What a script can see of a broken layout, checked on every page of the sweep.

``layout_problems(page)`` answers a list of sentences, empty when the page is
right: nothing scrolls sideways, no two items of the header overlap, the
site's name is neither clipped nor painted over, and no text is cut off by an
``overflow: hidden`` box (a box that shows an ellipsis on purpose, with
``line-clamp`` or ``text-overflow``, is not cut: it says so).
"""

from __future__ import annotations

import typing as t
from pathlib import Path

from playwright.sync_api import Page

_PROBLEMS = (Path(__file__).parent / "layout.js").read_text()


def layout_problems(page: Page) -> list[str]:
    """The sentences describing what is wrong with ``page``'s layout."""
    return t.cast(list[str], page.evaluate(_PROBLEMS))
