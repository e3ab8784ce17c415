"""Trends (舆情态势): per-hour counts and per-day cluster pages, written once per batch."""
