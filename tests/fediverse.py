"""A fediverse server for tests: a real HTTP server on 127.0.0.1 that serves
remote actors (each with its own RSA key), any documents a test puts on it,
and inboxes that record what they receive; and signed requests from its
actors to a Flaskr app. Federation tests set ``FEDERATION_ALLOW_HTTP`` and
``FEDERATION_ALLOW_PRIVATE`` to reach it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
import typing as t

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import make_server
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from flaskr.services.federation import signatures

ACTIVITY_JSON = "application/activity+json"


@dataclasses.dataclass
class RemoteUser:
    name: str
    uri: str
    private_key: rsa.RSAPrivateKey

    @property
    def key_id(self) -> str:
        return f"{self.uri}#main-key"

    @property
    def inbox(self) -> str:
        return f"{self.uri}/inbox"

    @property
    def public_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo,
            )
            .decode()
        )


@dataclasses.dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> t.Any:
        return json.loads(self.body)


class RemoteServer:
    """Start with ``start()`` (or as a context manager); ``base`` is its
    address. ``documents`` maps a path to ``(status, content type, bytes)``;
    ``inbox_status`` is what inboxes answer; ``received`` lists every request."""

    def __init__(self) -> None:
        self.users: dict[str, RemoteUser] = {}
        self.documents: dict[str, tuple[int, str, bytes]] = {}
        self.received: list[Received] = []
        self.inbox_status = 202
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.base = f"http://127.0.0.1:{self._server.server_port}"
        # A short poll: stopping waits for one (werkzeug's default is half a
        # second, paid by every test that starts a server).
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            daemon=True,
        )

    def start(self) -> RemoteServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> RemoteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_user(self, name: str, /, **fields: t.Any) -> RemoteUser:
        """A remote actor at ``/users/<name>``; ``fields`` change or add to
        its JSON (``None`` removes one)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        user = RemoteUser(name, f"{self.base}/users/{name}", key)
        self.users[name] = user
        document: dict[str, t.Any] = {
            "@context": [
                "https://www.w3.org/ns/activitystreams",
                "https://w3id.org/security/v1",
            ],
            "id": user.uri,
            "type": "Person",
            "preferredUsername": name,
            "name": name.title(),
            "url": f"{self.base}/@{name}",
            "inbox": user.inbox,
            "outbox": f"{user.uri}/outbox",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "icon": {"type": "Image", "url": f"{self.base}/avatars/{name}.png"},
            "publicKey": {
                "id": user.key_id,
                "owner": user.uri,
                "publicKeyPem": user.public_pem,
            },
        }
        for field, value in fields.items():
            if value is None:
                document.pop(field, None)
            else:
                document[field] = value
        self.put(f"/users/{name}", document)
        return user

    def put(self, path: str, document: t.Any, status: int = 200) -> str:
        """Serve ``document`` as ActivityStreams JSON at ``path``; its address."""
        body = json.dumps(document).encode()
        self.documents[path] = (status, ACTIVITY_JSON, body)
        return self.base + path

    def inbox_posts(self) -> list[Received]:
        with self._lock:
            return [
                item
                for item in self.received
                if item.method == "POST" and item.path.endswith("inbox")
            ]

    def _wsgi(self, environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
        request = Request(environ)
        body = request.get_data()
        with self._lock:
            self.received.append(
                Received(
                    request.method,
                    request.full_path.rstrip("?"),
                    {name.lower(): value for name, value in request.headers.items()},
                    body,
                )
            )
        if request.method == "POST" and request.path.endswith("inbox"):
            response = Response(b"", status=self.inbox_status)
        elif request.path in self.documents:
            status, content_type, content = self.documents[request.path]
            response = Response(content, status=status, content_type=content_type)
        else:
            response = Response(b"not here", status=404)
        return response(environ, start_response)


def signed_headers(
    user: RemoteUser,
    method: str,
    url: str,
    body: bytes | None,
    now: dt.datetime | None = None,
) -> dict[str, str]:
    """The headers ``user`` signs a request to ``url`` with (Host, Date,
    Digest, Signature), as a Mastodon server would."""
    return signatures.signed_headers(
        method, url, body, user.key_id, user.private_key, now or dt.datetime.now(dt.UTC)
    )


def post_activity(
    client: t.Any,
    user: RemoteUser,
    path: str,
    activity: t.Mapping[str, t.Any],
    *,
    now: dt.datetime | None = None,
    site: str = "http://localhost",
) -> t.Any:
    """POST ``activity`` signed by ``user`` to the app's ``path`` through
    Flask's test client (whose Host is ``localhost``)."""
    body = json.dumps(activity).encode()
    headers = signed_headers(user, "POST", site + path, body, now)
    headers["Content-Type"] = ACTIVITY_JSON
    return client.post(path, data=body, headers=headers)
