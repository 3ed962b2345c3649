"""How long each text column may be, and the other limits of a row.

Forms, services and the JSON API check input against these before it reaches
the database; the columns in :mod:`flaskr.models` are declared with them.
"""

USERNAME_MAX_LENGTH = 40
TITLE_MAX_LENGTH = 200
BODY_MAX_LENGTH = 100_000
TAG_MAX_LENGTH = 40
MAX_TAGS_PER_POST = 10
COMMENT_MAX_LENGTH = 5_000
ALT_MAX_LENGTH = 300
SUMMARY_MAX_LENGTH = 300
SLUG_MAX_LENGTH = 80
DISPLAY_NAME_MAX_LENGTH = 80
BIO_MAX_LENGTH = 500
WEBSITE_MAX_LENGTH = 500
SITE_TITLE_MAX_LENGTH = 80
SITE_DESCRIPTION_MAX_LENGTH = 300
ABOUT_MAX_LENGTH = 20_000
API_TOKEN_NAME_MAX_LENGTH = 60
