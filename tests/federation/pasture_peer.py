"""A fediverse-pasture peer on 127.0.0.1, for ``test_pasture.py``.

Run by the interpreter of ``.venv-pasture`` (``./dev.sh federation`` makes
it), never imported by the tests: fediverse-pasture and its dependencies
(bovine, quart) stay out of Flaskr's environment. Usage::

    python pasture_peer.py --port PORT --data FOLDER

It serves, on ``http://127.0.0.1:PORT``:

- pasture's verify-actor app as is (``fediverse_pasture.verify_actor``):
  ``POST /`` with ``actor_uri`` and ``Accept: application/json`` fetches that
  actor as six test actors (alice ... frank: signed and unsigned fetches,
  signed and unsigned inbox POSTs, keys that need a signed fetch, actors
  with and without WebFinger) and checks WebFinger; it answers
  ``{"result": {...}, "messages": "..."}``. Its actors live at ``/<name>``.
- pasture's HTTP-signature checker at ``/http_signature/``: a signed GET or
  POST to it answers 200 or 202 when the signature (with its key fetched
  from ``keyId``) is valid, 401 with the reason otherwise.
- ``POST /fetch`` ``{"uri": ...}``: pasture's application actor (``/actor``)
  fetches ``uri`` with bovine's signed GET; answers ``{"status", "object"}``.
- ``POST /send-note`` ``{"to", "content", "in_reply_to"}``: the same actor
  sends a public ``Create`` of a ``Note`` (made by pasture's ActivitySender,
  signed by bovine) to the inbox of the actor ``to``; answers
  ``{"status", "note"}``.
- ``POST /send-inputs`` ``{"to", "in_reply_to"}``: the same for every example
  of fediverse-pasture-inputs (the Notes behind funfedi.dev's support
  tables); answers ``[{"input": "name/number", "status", "note"}]``.

The data (the actors' keys) is made in FOLDER (``data.toml``) on first run.
"""

from __future__ import annotations

import argparse
import json
import os
import typing as t

import aiohttp
import fediverse_pasture_inputs
from fediverse_pasture.data_provider import bovine_actor_for_actor_data
from fediverse_pasture.data_provider import DataProvider
from fediverse_pasture.runner import ActivitySender
from fediverse_pasture.server.http_signature import http_signature_blueprint
from fediverse_pasture.verify_actor import build_app
from quart import request


def serve(port: int, timeout: float) -> None:
    domain = f"127.0.0.1:{port}"
    app = build_app(False, domain, False, timeout)
    app.register_blueprint(http_signature_blueprint, url_prefix="/http_signature")
    application_actor = DataProvider.load().one_actor
    actor_id = f"http://{domain}/{application_actor.actor_name}"

    @app.post("/fetch")
    async def fetch() -> t.Any:
        uri = (await request.get_json())["uri"]
        async with aiohttp.ClientSession() as session:
            actor, _ = bovine_actor_for_actor_data(actor_id, application_actor)
            await actor.init(session=session)
            response = await actor.client.get(uri)
            text = await response.text()
            try:
                data = await response.json(content_type=None)
            except ValueError:
                data = None
            return {"status": response.status, "object": data, "text": text[:2000]}

    async def post_notes(
        to: str, modifiers: list[t.Callable[[dict[str, t.Any]], dict[str, t.Any]]]
    ) -> list[dict[str, t.Any]]:
        """Each modifier's Note, in a public Create from the application
        actor, POSTed to the inbox of ``to``: its answer's status (``None``:
        no answer) and the Note."""
        sent = []
        async with aiohttp.ClientSession() as session:
            actor, actor_object = bovine_actor_for_actor_data(
                actor_id, application_actor
            )
            await actor.init(session=session)
            inbox = (await actor.get(to))["inbox"]
            sender = ActivitySender.for_actor(actor, actor_object)
            for modifier in modifiers:
                sender.init_create_note(modifier)
                # As ActivitySender.send addresses and wraps it.
                note = {**(sender.note or {})}
                addressed = note.get("to")
                if isinstance(addressed, str):
                    addressed = [addressed]
                note["to"] = [*(addressed or []), to]
                create = sender.activity_factory.create(
                    note, id=sender.make_id(activity=True)
                ).build()
                create["@context"] = note.get("@context") or [
                    create["@context"],
                    {"Hashtag": "as:Hashtag", "sensitive": "as:sensitive"},
                ]
                try:
                    # bovine's client signs; its answer is kept whatever it is.
                    response = await actor.client.post(inbox, json.dumps(create))
                    await response.read()
                    status: int | None = response.status
                except aiohttp.ClientError:
                    status = None
                sent.append({"status": status, "note": note})
        return sent

    @app.post("/send-note")
    async def send_note() -> t.Any:
        wanted = await request.get_json()

        def modifier(note: dict[str, t.Any]) -> dict[str, t.Any]:
            note = {**note, "content": wanted["content"]}
            if wanted.get("in_reply_to"):
                note["inReplyTo"] = wanted["in_reply_to"]
            return note

        return (await post_notes(wanted["to"], [modifier]))[0]

    @app.post("/send-inputs")
    async def send_inputs() -> t.Any:
        """Every example of fediverse-pasture-inputs (the support tables'
        Notes: HTML, mentions, attachments, missing properties...) as a reply
        to ``in_reply_to``, unless the example sets its own ``inReplyTo``."""
        wanted = await request.get_json()
        names, modifiers = [], []
        for name, data in sorted(fediverse_pasture_inputs.available.items()):
            for number, example in enumerate(data.examples):
                names.append(f"{name}/{number}")
                base = {"content": "text", "inReplyTo": wanted["in_reply_to"]}
                modifiers.append(
                    lambda note, example=example, base=base: {
                        **note,
                        **base,
                        **example,
                    }
                )
        sent = await post_notes(wanted["to"], modifiers)
        return [{"input": name, **one} for name, one in zip(names, sent, strict=True)]

    app.run(host="127.0.0.1", port=port, use_reloader=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", required=True, help="folder for data.toml")
    parser.add_argument("--timeout", type=float, default=10)
    arguments = parser.parse_args()
    os.makedirs(arguments.data, exist_ok=True)
    # pasture keeps its actors' keys in ./data.toml.
    os.chdir(arguments.data)
    DataProvider.generate_and_load(False)
    serve(arguments.port, arguments.timeout)


if __name__ == "__main__":
    main()
