"""Posts (帖文): items found by crawling or reported by people, stored once each."""
