"""The subscribers pages, shared by the writer's (``/subscribers``, blog
blueprint) and the administrator's (``/admin/subscribers``): the list, the
CSV download and the import form. Each blueprint routes its own URLs to
these and names its endpoints' prefix; ``subscriber_admin`` decides."""

from __future__ import annotations

import typing as t

from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import stream_with_context
from flask import url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug import Response
from werkzeug.datastructures import FileStorage

from flaskr.db import utcnow
from flaskr.models import User
from flaskr.services.base.errors import Invalid
from flaskr.services.base.site import settings
from flaskr.services.social import subscriber_admin
from flaskr.services.social import subscriber_csv
from flaskr.web.shared_forms import ButtonForm
from flaskr.web.shared_forms import INVALID_FORM
from flaskr.web.shared_forms import show_problems


class ImportForm(FlaskForm):
    file = FileField(
        "CSV file",
        description=(
            "One address a line, or a column headed “email”; UTF-8, up to"
            f" {subscriber_csv.IMPORT_MAX_BYTES // 1024} KB and"
            f" {subscriber_csv.IMPORT_MAX_ROWS:,} addresses. Each new address"
            " is mailed a link to confirm; nobody is subscribed until they do."
        ),
        render_kw={"accept": ".csv,text/csv,text/plain"},
    )


def _page_argument() -> int:
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and len(page) < 7 else 1


def subscribers_page(
    writer: User | None,
    prefix: str,
    *,
    import_form: ImportForm | None = None,
) -> tuple[str, int]:
    """The list of ``writer``'s subscribers (``None``: the site's), or their
    count only when the viewer may not see addresses.

    :param prefix: the blueprint whose endpoints the page's forms and links
        use (``blog`` or ``admin``).
    """
    audience = subscriber_admin.audience(g.user, writer)
    shows = subscriber_admin.may_see_addresses(g.user, writer)
    search = request.args.get("q", "")
    found = None
    if shows:
        try:
            found = subscriber_admin.list_subscribers(
                g.user, writer, search=search, page=_page_argument()
            )
        except Invalid as refusal:
            abort(400, description=str(refusal))
    failed = import_form is not None and bool(import_form.errors)
    return render_template(
        "blog/subscribers.html",
        writer=writer,
        prefix=prefix,
        audience=audience,
        found=found,
        search=search,
        import_form=import_form or ImportForm(),
        button_form=ButtonForm(),
        writers_see=settings().writers_see_subscribers,
    ), (INVALID_FORM if failed else 200)


def _uploaded(form: ImportForm) -> bytes | None:
    """The file's bytes, read no further than one past the limit."""
    upload = form.file.data
    if not isinstance(upload, FileStorage) or not upload.filename:
        return None
    return upload.stream.read(subscriber_csv.IMPORT_MAX_BYTES + 1)


def import_subscribers(writer: User | None, prefix: str) -> Response | tuple[str, int]:
    """Read the import form and invite its addresses; back to the list."""
    form = ImportForm()
    if not form.validate():
        return subscribers_page(writer, prefix, import_form=form)
    data = _uploaded(form)
    if data is None:
        form.file.errors = ["Choose a CSV file."]
        return subscribers_page(writer, prefix, import_form=form)
    try:
        report = subscriber_csv.import_csv(g.user, writer, data)
    except Invalid as refusal:
        show_problems(form, refusal, fallback=form.file)
        return subscribers_page(writer, prefix, import_form=form)
    invited = f"{report.invited} new address{'' if report.invited == 1 else 'es'}"
    message = f"Confirmation mails go to {invited}; each is subscribed once confirmed."
    if report.already or report.elsewhere:
        left = report.already + report.elsewhere
        message += (
            f" {left} address{' was' if left == 1 else 'es were'} already on"
            " this site's list and left as they are."
        )
    flash(message)
    return redirect(url_for(f"{prefix}.subscribers"))


def remove_subscriber(
    writer: User | None, prefix: str, subscriber_id: int
) -> Response | tuple[str, int]:
    """Remove one subscriber (from ``writer``'s list); back to the list."""
    form = ButtonForm()
    if not form.validate():
        abort(400, description="The form expired; try again.")
    address = subscriber_admin.remove_subscriber(g.user, writer, subscriber_id)
    flash(f"{address} gets no more mail from {'you' if writer else 'this site'}.")
    return redirect(url_for(f"{prefix}.subscribers"))


def csv_download(writer: User | None, name: str) -> Response:
    """The subscribers as a CSV file, written as it downloads."""
    lines: t.Iterator[str] = subscriber_csv.export_csv(g.user, writer)
    response = Response(stream_with_context(lines), mimetype="text/csv")
    filename = f"subscribers-{name}-{utcnow():%Y-%m-%d}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
