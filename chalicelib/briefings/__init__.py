"""Briefings (舆情日报), incident evaluations (舆情评估) and drill reports: JSON, HTML, Word."""
