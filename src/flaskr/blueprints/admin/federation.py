"""The fediverse page for administrators: the servers the site will not
talk to, blocked and unblocked here, and how far the site federates."""

from __future__ import annotations

from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import url_for
from werkzeug import Response

from flaskr.blueprints.admin.forms import BlockForm
from flaskr.blueprints.admin.forms import UnblockForm
from flaskr.blueprints.admin.views import bp
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.federation import blocks
from flaskr.web.shared_forms import INVALID_FORM
from flaskr.web.shared_forms import show_problems
from flaskr.web.users import admin_required


def _page(form: BlockForm | None = None) -> tuple[str, int]:
    return render_template(
        "admin/federation.html",
        form=form or BlockForm(prefix="block"),
        unblock_form=UnblockForm(prefix="unblock"),
        blocked=blocks.blocked_domains(),
        numbers=blocks.numbers(),
    ), (INVALID_FORM if form is not None and form.errors else 200)


@bp.route("/federation", endpoint="federation")
@admin_required
def federation_view() -> tuple[str, int]:
    """Blocked servers, and the fediverse's numbers."""
    return _page()


@bp.route("/federation/block", methods=["POST"], endpoint="block_domain")
@admin_required
def block_domain() -> Response | tuple[str, int]:
    """Block a server and drop what this site has of it."""
    form = BlockForm(prefix="block")
    if not form.validate():
        return _page(form)
    try:
        domain = blocks.block_domain(
            g.user, form.domain.data or "", form.reason.data or ""
        )
    except NotAllowed:
        abort(403)
    except Invalid as refusal:
        show_problems(form, refusal, form.domain)
        return _page(form)
    flash(f"{domain} is blocked.")
    return redirect(url_for("admin.federation"))


@bp.route("/federation/unblock", methods=["POST"], endpoint="unblock_domain")
@admin_required
def unblock_domain() -> Response:
    """Talk to a blocked server again."""
    form = UnblockForm(prefix="unblock")
    if not form.validate():
        abort(400, description="The form expired; try again.")
    try:
        blocks.unblock_domain(g.user, form.domain.data or "")
    except NotAllowed:
        abort(403)
    except Invalid as refusal:
        flash(str(refusal))
    else:
        flash(f"{form.domain.data} is no longer blocked.")
    return redirect(url_for("admin.federation"))
