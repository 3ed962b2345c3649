"""The event line's handlers, in one table (``services/base/events.py``).

A handler is named here once and for good: its name is stored with each
delivery, so renaming one makes it handle every event again. A new handler
(newsletters, federation) gets the events recorded from the day it is added.
"""

from __future__ import annotations

from flaskr.services.base import events
from flaskr.services.base.events import Handler
from flaskr.services.federation.publishing import federate_event
from flaskr.services.federation.publishing import KINDS as FEDERATED_KINDS
from flaskr.services.governance.moderation import mail_moderators_about_waiting
from flaskr.services.social.newsletter import mail_subscribers_about_post
from flaskr.services.social.reactions import mail_writer_about_comment

HANDLERS: tuple[Handler, ...] = (
    Handler(
        name="comment_mail",
        kinds=frozenset({events.COMMENT_ADDED}),
        run=mail_writer_about_comment,
    ),
    Handler(
        name="moderator_mail",
        kinds=frozenset({events.MODERATION_WAITING}),
        run=mail_moderators_about_waiting,
    ),
    Handler(
        name="newsletter",
        kinds=frozenset({events.POST_PUBLISHED}),
        run=mail_subscribers_about_post,
    ),
    Handler(name="federation", kinds=FEDERATED_KINDS, run=federate_event),
)

#: The kinds some handler wants.
HANDLED_KINDS = frozenset().union(*(handler.kinds for handler in HANDLERS))


def deliver_due_events() -> int:
    """Run every handler on the events due for it; return how many runs
    finished (``events.deliver_due_events``)."""
    return events.deliver_due_events(HANDLERS)
