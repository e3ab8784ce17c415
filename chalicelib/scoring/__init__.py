"""Scoring (评分): from a post to subjects, sentiment, crisis words, a risk score and a level."""
