"""Portability: a user's archive out (exports) and in (imports), and the
formats of other blog engines."""
