"""Services: what Flaskr does, as use cases over the models, one package per
domain (docs/architecture.md).

The HTML blueprints, the commands, the JSON API and the importers all call
these, so a rule lives in one place. A service never imports Flask's request
objects or a blueprint: it takes and returns models and values, and says no
with a domain error from :mod:`flaskr.services.base.errors` (the web floor
turns those into HTTP).

Transactions: a public service function that changes data commits once, at its
end. A function whose docstring says "The caller commits" is a building block
for the use cases beside it; the few places outside ``services`` that call one
and commit are listed in docs/architecture.md ("Who commits").
"""
