"""The names of PostgreSQL's trigger functions, as the migrations made them.

``flaskr.schema`` names them too, to drop them (``init-db``); these copies
keep the migrations' names whatever that module calls them later.
"""

#: Moves ``site_version`` (migration 0006).
SITE_VERSION_FUNCTION = "move_site_version"
#: Likes and comments (migration 0022): a lock on the version row without
#: moving it, the post's stamp from the moved ``reactions`` count, and the
#: stamp asked for on every reacted post.
LOCK_SITE_VERSION_FUNCTION = "lock_site_version"
MOVE_REACTIONS_FUNCTION = "move_reactions"
MARK_REACTED_POST_FUNCTION = "mark_reacted_post"
#: Keeps ``archive_month`` (migration 0024).
COUNT_MONTHS_FUNCTION = "count_months"
