"""Exports (导出): the lists officials forward, as Excel workbooks (``?format=xlsx``)."""
