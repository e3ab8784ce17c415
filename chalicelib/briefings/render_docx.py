"""A :class:`Document` as a Word file (.docx) with python-docx: what officials forward.

Headings, paragraphs and tables are Word's own (a reader can edit and copy them); charts are PNG
pictures (:mod:`charts`) with their Chinese caption as a paragraph under the picture. East Asian
text gets a CJK font name (宋体/SimSun) so Word and WPS render it with the reader's font.
"""

from __future__ import annotations

import io
import re

from docx import Document as new_document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Inches, Pt

from chalicelib.briefings import charts
from chalicelib.briefings.models import Document

EAST_ASIAN_FONT = "SimSun"
# XML 1.0 refuses these; a crawled title may carry them (lxml would raise).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("", text)


def render(doc: Document) -> bytes:
    word = new_document()
    normal = word.styles["Normal"]
    normal.font.size = Pt(10.5)
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    word.core_properties.title = _xml(doc.title)
    word.add_heading(_xml(doc.title), level=0)
    word.add_paragraph(_xml(doc.subtitle))
    if doc.banner:
        word.add_paragraph().add_run(_xml(doc.banner)).bold = True
    for section in doc.sections:
        word.add_heading(_xml(section.heading), level=1)
        for text in section.paragraphs:
            word.add_paragraph(_xml(text))
        for chart in section.charts:
            word.add_picture(io.BytesIO(charts.png(chart)), width=Inches(6.0))
            caption = word.add_paragraph(_xml(chart.caption))
            caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
        for table in section.tables:
            if table.caption:
                word.add_paragraph(_xml(table.caption))
            grid = word.add_table(rows=1, cols=len(table.columns))
            grid.style = "Table Grid"
            for cell, column in zip(grid.rows[0].cells, table.columns, strict=True):
                cell.text = _xml(column)
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            for row in table.rows:
                cells = grid.add_row().cells
                for cell, value in zip(cells, row, strict=True):
                    cell.text = _xml(value)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()
