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
  sends a public ``Create`` of a ``Note`` (pasture's ActivitySender, signed by
  bovine) to the inbox of the actor ``to``; answers ``{"status", "note"}``.

The data (the actors' keys) is made in FOLDER (``data.toml``) on first run.
"""

from __future__ import annotations

import argparse
import os
import typing as t

import aiohttp
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

    @app.post("/send-note")
    async def send_note() -> t.Any:
        wanted = await request.get_json()
        async with aiohttp.ClientSession() as session:
            actor, actor_object = bovine_actor_for_actor_data(
                actor_id, application_actor
            )
            await actor.init(session=session)
            sender = ActivitySender.for_actor(actor, actor_object)
            sender.sleep_after_getting_inbox = False

            def modifier(note: dict[str, t.Any]) -> dict[str, t.Any]:
                note = {**note, "content": wanted["content"]}
                if wanted.get("in_reply_to"):
                    note["inReplyTo"] = wanted["in_reply_to"]
                return note

            sender.init_create_note(modifier)
            try:
                response = await sender.send(wanted["to"])
            except Exception as error:  # noqa: BLE001 (reported to the test)
                return {"status": None, "error": repr(error), "note": sender.note}
            status = None if response is None else response.status
            return {"status": status, "note": sender.note}

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
