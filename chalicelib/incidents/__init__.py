"""Incidents (舆情事件): the record, its timeline, tasks, statements and evidence."""
