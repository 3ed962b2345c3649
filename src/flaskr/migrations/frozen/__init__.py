"""Frozen copies of the code the migrations run.

A migration is history: run on a database in 2030 it must do what it did when
it was written, whatever the services, models or column types have become by
then. So no migration imports ``flaskr`` code outside this package (a test
checks it, ``tests/test_migrations.py``); what a migration needs of the rest of
the app is copied here, as it was when copied, and never edited afterwards. A
later migration that needs a different version gets a new module.
"""
