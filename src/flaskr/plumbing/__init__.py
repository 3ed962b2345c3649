"""Request plumbing: what every request passes through, whatever its view.

The page cache (WSGI middleware, outermost), protection (HTTPS, headers,
cross-site refusals), throttling, operations (health check, request ids, the
access log), error pages, the server-side session interface and the routing
of read-only requests on PostgreSQL. Each module wires itself in with
``init_app``; views never call into it, except to mark a page as kept by the
page cache or to rate-limit a view.
"""
