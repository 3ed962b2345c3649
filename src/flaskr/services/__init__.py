"""Services: what Flaskr does, as plain functions over the models.

The HTML blueprints, the commands and (later) the JSON API all call these, so
a rule lives in one place. A service never imports Flask's request objects or a
blueprint: it takes and returns models and values, and says no with a domain
error from :mod:`flaskr.services.base.errors` (the web floor turns those into HTTP).

Transactions: a public service function that changes data commits once, at its
end. A function whose docstring says "The caller commits" is a building block
for other services and is not called from outside ``services``.
"""
