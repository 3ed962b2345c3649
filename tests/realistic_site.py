"""A blog as a visitor meets it: a title and description, several writers with
pictures and profiles, posts with tags, code, a table, pictures and comments.

The Lighthouse leg (tests/lighthouse/) audits its pages and the page-weight
test (tests/test_page_weight.py) weighs them, so both judge the same content.
Everything is made through the services, as the site would make it.
"""

from __future__ import annotations

import dataclasses
import io
import random

from flask import Flask
from PIL import Image
from PIL import ImageDraw

from flaskr.db import db
from flaskr.services.accounts import profiles
from flaskr.services.accounts import users as accounts
from flaskr.services.base import images
from flaskr.services.base import site
from flaskr.services.content import media
from flaskr.services.content import writing
from flaskr.services.social import follows
from flaskr.services.social import reactions

PASSWORD = "a long enough password for the realistic site"
WRITER = "mara"
OTHER_WRITERS = ("tomas", "ines")

TITLE = "Notes from the workshop"
DESCRIPTION = (
    "Essays on building small tools, setting type for the screen and keeping"
    " software simple, from three people who make things for a living."
)
ABOUT = "We write about **what we build** and what we learn on the way."

LEAD_BODY = """\
A line of text has a comfortable length, and it is shorter than most screens
allow. Somewhere between sixty and seventy-five characters the eye finds the
start of the next line without effort; beyond that, readers skip lines or lose
their place. This post walks through how we chose ours.

## Measuring a line

We measured the column in characters rather than pixels, so that it follows
the reader's own font size:

```python
def characters_per_line(width_px: float, font_px: float) -> float:
    # An average character is about half an em wide in most text faces.
    return width_px / (font_px * 0.5)
```

> A measure is a promise to the reader: you will never have to hunt for the
> next line.

## What we settled on

| Screen  | Font size | Measure |
|---------|-----------|---------|
| Phone   | 17 px     | 38 ch   |
| Tablet  | 18 px     | 62 ch   |
| Desktop | 19 px     | 68 ch   |

{picture}

The table is not a rule; it is what looked right on the devices we own. Try
your own: set a paragraph, narrow the window, and stop where reading gets
easy. Then leave it alone.
"""

SHORT_BODIES = (
    "Every tool we keep earns its place by doing one thing well. This month we"
    " threw out three and wrote one small script instead; here is why.",
    "Colour on the web has to survive dark rooms, bright sunlight and tired"
    " eyes. We check every pair of colours for contrast before it ships.",
    "Tests that read like a story are the ones people keep. A few notes on"
    " naming, arranging and trimming them.",
    "Our release checklist fits on an index card. Anything longer was a"
    " sign that the process, not the list, needed fixing.",
    "We moved the blog to a cheaper server and nobody noticed, which was the"
    " point. The steps, and the one thing that went wrong.",
)
SHORT_TITLES = (
    "Fewer tools, better kept",
    "Colour that keeps its contrast",
    "Tests that read like a story",
    "A release checklist on one card",
    "Moving house without anyone noticing",
)
SHORT_TAGS = (
    ["tools"],
    ["design", "accessibility"],
    ["testing", "python"],
    ["process"],
    ["servers", "process"],
)


@dataclasses.dataclass(frozen=True)
class RealisticSite:
    """Addresses of the pages worth auditing (paths on the site)."""

    home: str
    post: str
    tag: str
    author: str
    editor: str


def photo(seed: int, size: tuple[int, int] = (1280, 800)) -> io.BytesIO:
    """A JPEG with a photograph's detail: gradients, shapes and grain, so its
    compressed size is like a real picture's and not a flat colour's."""
    rng = random.Random(seed)  # noqa: S311 (test pictures, not secrets)
    width, height = size
    picture = Image.linear_gradient("L").resize(size).convert("RGB")
    tint = Image.new("RGB", size, (rng.randrange(256), 120, rng.randrange(256)))
    picture = Image.blend(picture, tint, 0.55)
    draw = ImageDraw.Draw(picture)
    for _ in range(40):
        x, y = rng.randrange(width), rng.randrange(height)
        radius = rng.randrange(20, 220)
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)
    grain = Image.effect_noise(size, 24).convert("RGB")
    picture = Image.blend(picture, grain, 0.15)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90)
    buffer.seek(0)
    return buffer


def _processed(seed: int) -> images.ProcessedImage:
    return images.process_upload(photo(seed), max_bytes=10**8, max_pixels=10**8)


def seed_realistic_site(app: Flask) -> RealisticSite:
    """Fill the (empty) database of ``app`` with the realistic blog."""
    with app.test_request_context():
        writer = accounts.register_user(WRITER, PASSWORD)
        others = [accounts.register_user(name, PASSWORD) for name in OTHER_WRITERS]
        site.set_admin(writer)
        site.update_identity(TITLE, DESCRIPTION, ABOUT)
        for number, (user, name, bio) in enumerate(
            (
                (writer, "Mara Lindqvist", "Sets type and writes Python."),
                (others[0], "Tomás Reyes", "Runs the servers; likes boring ones."),
                (others[1], "Inês Duarte", "Designs interfaces and tests them."),
            )
        ):
            profiles.update_profile(
                user, display_name=name, bio=bio, website="https://example.org/"
            )
            avatar = photo(100 + number, (400, 400))
            profiles.set_avatar(
                user,
                images.process_avatar(avatar, max_bytes=10**8, max_pixels=10**8),
            )

        authors = [writer, *others]
        for number, (title, body, tags) in enumerate(
            zip(SHORT_TITLES, SHORT_BODIES, SHORT_TAGS, strict=True)
        ):
            writing.create_post(
                authors[number % len(authors)], title, body, tags=tags, publish=True
            )

        picture = media.add_picture(
            writer, _processed(1), "A workbench with a ruler laid across a page"
        )
        lead = writing.create_post(
            writer,
            "On measure and rhythm",
            LEAD_BODY.format(picture=media.markdown_for(picture)),
            tags=["typography", "design"],
            publish=True,
            summary="Why a line of sixty-five characters reads best, and how we"
            " chose ours.",
        )
        images.attach(lead, _processed(2), "Proofs of a page pinned to a wall")
        db.session.commit()
        for author, text in (
            (others[0], "We did the same for the **docs** site; it helped."),
            (others[1], "Would you set code blocks to the same measure?"),
            (writer, "Code keeps its own width: it scrolls rather than wraps."),
        ):
            reactions.add_comment(lead, author, text, post_link="/")
        for other in others:
            reactions.set_like(other, lead, liked=True)
            follows.follow(other, writer)
        slug = lead.slug
    return RealisticSite(
        home="/",
        post=f"/p/{slug}",
        tag="/tag/design",
        author=f"/u/{WRITER}",
        editor="/create",
    )
