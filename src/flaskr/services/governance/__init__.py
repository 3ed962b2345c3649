"""Governing the site: the members (approving, roles, suspending,
removing), the moderation queue and readers' reports.

It sits above ``accounts``, ``reading`` and ``social``: a moderator's
decision about a comment may suspend its writer, and suspending an account
withholds its writing everywhere.
"""
