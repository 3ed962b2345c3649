"""Accounts: registration, renaming and deletion, passwords, login policy,
sessions, profiles and recovery."""
