"""Cut the chart font: WenQuanYi Micro Hei (文泉驿微米黑) down to what Chinese chart labels use.

Lambda has no CJK font, and the whole TTC is 5.2 MB (two faces, 34,600 characters); the
charts (chalicelib/briefings/charts.py) need one face and the characters of everyday
simplified Chinese. Kept: printable ASCII, Latin-1 punctuation and signs, general punctuation
(— … ‰), CJK symbols and punctuation, full-width forms, and every character of GB2312 — its
6,763 hanzi plus its symbols, Greek, Cyrillic, kana and box drawing. Anything else draws as the
font's missing glyph (kept: ``.notdef``), never an error.

Run when the coverage should change (fontTools comes from requirements-dev.txt; the font from
Debian's fonts-wqy-microhei, which tools/ensure_browser.sh installs)::

    .venv/bin/python -m tools.subset_font

The output is deterministic (no timestamps are rewritten), so re-running it on the same source
font leaves git clean. The licence (Apache-2.0, one of the font's two licences) ships beside it.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

SOURCE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
APACHE = Path("/usr/share/common-licenses/Apache-2.0")
FONT_DIR = Path(__file__).resolve().parents[1] / "chalicelib" / "briefings" / "fonts"
OUTPUT = FONT_DIR / "wqy-microhei-gb2312.ttf"
FACE = 0  # the TTC's first face, WenQuanYi Micro Hei (the second is its monospaced twin)

NOTICE = """\
wqy-microhei-gb2312.ttf is a subset of WenQuanYi Micro Hei 0.2.0-beta (文泉驿微米黑),
as packaged by Debian (fonts-wqy-microhei), cut by tools/subset_font.py to ASCII,
Latin-1 signs, general punctuation, CJK punctuation, full-width forms and the GB2312
character set. Only characters were removed; no glyph was changed.

Copyright: 2008-2009, The WenQuanYi Project Board of Trustees
           2008-2009, Qianqian Fang (FangQ)
           2008-2009, mozbug
           Based on Google Droid font family shipped in Android SDK (1.0),
           including Droid Sans Fallback, Droid Sans and Droid Sans Mono:
           2006-2008, Google Corporation
           2006-2008, Steve Matteson, Ascender Corp.
           Some CJK punctuations were imported from Ume-Font:
           2003-2004, Electronic Font Open Laboratory (/efont/)
           1990-2003, Wada Laboratory, the University of Tokyo

The font is licensed under the Apache License, Version 2.0 or the GNU GPL v3 (or
later) with the font exception; this project uses and redistributes it under the
Apache License, Version 2.0, whose text is in LICENSE-Apache-2.0 beside this file.
Upstream: http://wenq.org/ (https://sourceforge.net/projects/wqy/)
"""


def gb2312() -> list[int]:
    """Every character GB2312 encodes (rows 1-9 symbols, 16-87 hanzi), as code points."""
    found = []
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                found.append(ord(bytes([row, cell]).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return found


def gb2312_hanzi() -> list[int]:
    """The 6,763 hanzi of GB2312 (rows 16-87): what the tests check the subset holds."""
    return [c for c in gb2312() if 0x4E00 <= c <= 0x9FFF]


def coverage() -> list[int]:
    ranges = [
        range(0x20, 0x7F),  # printable ASCII
        range(0xA0, 0x100),  # Latin-1 signs (° · × ÷ ¥ …)
        range(0x2010, 0x2070),  # general punctuation (— ‘ ’ “ ” … ‰ ※)
        range(0x3000, 0x3040),  # CJK symbols and punctuation (、。《》【】〔〕)
        range(0xFF00, 0xFFF0),  # full-width forms (，：；！？（）％)
    ]
    return sorted({c for r in ranges for c in r} | set(gb2312()))


def build(source: Path = SOURCE, output: Path = OUTPUT) -> Path:
    font = TTFont(source, fontNumber=FACE, recalcTimestamp=False, recalcBBoxes=False)
    options = subset.Options()
    options.hinting = False  # the renderer draws at 2x and antialiases; hints are dead weight
    options.notdef_outline = True  # a character outside the subset draws as a box, visibly
    options.layout_features = []  # Pillow's basic layout (no raqm) uses no OpenType features
    options.name_IDs = ["*"]  # keep copyright, licence and version strings
    options.glyph_names = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=coverage())
    subsetter.subset(font)
    output.parent.mkdir(parents=True, exist_ok=True)
    font.save(output)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--source", type=Path, default=SOURCE)
    args = parser.parse_args(argv)
    out = build(args.source)
    shutil.copyfile(APACHE, FONT_DIR / "LICENSE-Apache-2.0")
    (FONT_DIR / "NOTICE").write_text(NOTICE, encoding="utf-8")
    digest = hashlib.sha256(out.read_bytes()).hexdigest()[:16]
    print(f"{out}: {out.stat().st_size / 1e6:.2f} MB, {len(coverage())} characters, {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
