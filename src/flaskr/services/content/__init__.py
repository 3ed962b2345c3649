"""Content: writing posts, the rules their fields follow, their life (schedule,
trash, deletion), their revisions and their pictures."""
