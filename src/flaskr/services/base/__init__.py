"""The shared base every domain stands on: domain errors, paging, mail, the
security log, the site's identity, and the text, Markdown and image tools."""
