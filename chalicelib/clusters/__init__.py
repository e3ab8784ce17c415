"""Clusters (事件簇): near-duplicate posts of one story, their spread and their incidents."""
