"""The ``Note`` of a reply written here to a remote post, served as
ActivityStreams JSON: the remote server fetches it to check the reply."""

from __future__ import annotations

import json

from flask import abort
from werkzeug import Response

from flaskr.blueprints.federation.views import bp
from flaskr.services.federation import ids
from flaskr.services.federation.following import reply_document


@bp.route("/ap/replies/<id:reply_id>")
def reply_note(reply_id: int) -> Response:
    """A reply's ``Note``.

    :raise 404: no such reply, its writer is gone, or federation is off.
    """
    document = reply_document(reply_id)
    if document is None:
        abort(404)
    return Response(
        json.dumps(document, separators=(",", ":")),
        content_type=ids.ACTIVITY_JSON,
    )
