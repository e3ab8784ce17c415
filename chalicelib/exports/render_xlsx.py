"""A :class:`~chalicelib.exports.models.Sheet` as an Excel workbook (.xlsx) with openpyxl.

Pure but for building bytes: the workbook is written into memory, never to a file. openpyxl's
write-only mode would stream rows, but through a temporary file per sheet; the routes' own
limits (at most a few hundred rows) keep the ordinary in-memory workbook small, and
:data:`~chalicelib.exports.models.MAX_ROWS` caps it at Excel's grid in any case.

The data sheet comes first (what opens), with its header row bold and frozen and an AutoFilter
over it; the 说明 sheet follows. Cells follow the rules of :mod:`chalicelib.exports.models`:
text is a string, never a formula, and formula-like text carries the quote prefix; times are
China-time date-times in ``yyyy-mm-dd hh:mm:ss``; scores have two decimals.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime

from openpyxl import Workbook
from openpyxl.cell.cell import Cell as XlCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from chalicelib.exports.models import (
    MAX_ROWS,
    TIME_FORMAT,
    Cell,
    Column,
    Kind,
    Sheet,
    cell_text,
    is_formula_like,
)

NOTES_TITLE = "说明"
_NUMBER_FORMATS = {Kind.INTEGER: "0", Kind.NUMBER: "0.00", Kind.TIME: TIME_FORMAT}
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")
# Widest a column is made, in characters: long text wraps inside it instead.
_MAX_WIDTH = 60


def render(sheet: Sheet) -> bytes:
    book = Workbook()
    data = book.active
    assert isinstance(data, Worksheet)  # a new workbook's one sheet
    data.title = sheet.title
    _table(data, sheet.columns, sheet.rows[:MAX_ROWS])
    notes = book.create_sheet(NOTES_TITLE)
    _table(notes, (Column("项目", width=20), Column("内容", width=_MAX_WIDTH)), sheet.notes)
    book.properties.title = cell_text(sheet.title)
    book.properties.creator = "yuqing"
    if sheet.exported_at is not None:  # openpyxl stamps "modified" itself when saving
        book.properties.created = sheet.exported_at.astimezone(UTC).replace(tzinfo=None)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _table(ws: Worksheet, columns: tuple[Column, ...], rows: Sequence[Sequence[Cell]]) -> None:
    for index, column in enumerate(columns, start=1):
        header = _cell(ws, 1, index)
        _put(header, column.header)
        header.font = _BOLD
        ws.column_dimensions[get_column_letter(index)].width = min(column.width, _MAX_WIDTH)
    for number, row in enumerate(rows, start=2):
        for index, (column, value) in enumerate(zip(columns, row, strict=True), start=1):
            cell = _cell(ws, number, index)
            _put(cell, value)
            if isinstance(value, int | float | datetime) and column.kind in _NUMBER_FORMATS:
                cell.number_format = _NUMBER_FORMATS[column.kind]
            cell.alignment = _WRAP if column.kind is Kind.TEXT and column.width >= 30 else _TOP
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"


def _cell(ws: Worksheet, row: int, column: int) -> XlCell:
    cell = ws.cell(row=row, column=column)
    assert isinstance(cell, XlCell)  # nothing here is ever merged
    return cell


def _put(cell: XlCell, value: Cell) -> None:
    """One value into one cell; text always as a string (never a formula)."""
    if value is None:
        return
    if isinstance(value, bool):  # a bool is an int: say it in words
        value = "是" if value else "否"
    if isinstance(value, str):
        text = cell_text(value)
        if not text:
            return
        cell.value = text
        # openpyxl makes any text starting with "=" a formula: this one is a string, always.
        cell.data_type = "s"
        if is_formula_like(text):
            cell.quotePrefix = True
        return
    cell.value = value
