"""Social: what readers do with posts and authors (likes, comments, follows)."""
