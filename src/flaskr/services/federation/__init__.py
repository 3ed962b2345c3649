"""ActivityPub: the site's writers as fediverse actors.

- :mod:`.ids`: the addresses of this site's actors and objects, on ``SITE_URL``.
- :mod:`.keys`: each actor's RSA key pair, made once, rotated by a command.
- :mod:`.signatures`: HTTP Signatures (draft-cavage, ``rsa-sha256``) as
  Mastodon signs and checks them.
- :mod:`.client`: the one guarded client every outgoing fetch goes through.
- :mod:`.remote_actors`: remote actors, fetched, checked and kept.

Federation is on when ``FEDERATION`` is true and ``SITE_URL`` is set: ids
must not change with the Host a request names. docs/federation.md says what
federates.
"""
