"""The fediverse's doors: discovery (WebFinger, NodeInfo, host-meta), the
actors' and objects' JSON, and the inboxes. Views only translate HTTP to the
federation services (``services/federation``) and back."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("federation", __name__)
