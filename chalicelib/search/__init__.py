"""Search (检索): the feed posts of a window that a subject rule matches, within a budget."""
