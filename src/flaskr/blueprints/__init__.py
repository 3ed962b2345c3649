"""The blueprints: thin views, their forms and the templates they fill.

Each stands on :mod:`flaskr.web` and :mod:`flaskr.services` and never imports
another blueprint (import-linter checks it).
"""
