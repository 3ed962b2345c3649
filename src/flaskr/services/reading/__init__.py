"""Reading: lists and counts of published posts, navigation between them, and
search."""
