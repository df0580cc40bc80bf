"""Cell formats for highlights and bold headers: cloned from the cell's own format, reused when equal."""

from __future__ import annotations

import copy
from xml.etree.ElementTree import Element

from .ooxml import CT_STYLES, fail, m
from .package import NS_MAIN, WORKBOOK_PART
from .parts import Package
from .rels import add_rel, override, related
from .values import number_text
from .xmldoc import XmlDoc, canonical, new_doc, sub


class Styles:
    """The workbook's stylesheet, made (Excel's minimal one) if the package has none."""

    def __init__(self, pkg: Package) -> None:
        self.pkg = pkg
        self._cache: dict[tuple[str, int, str], int] = {}

    def stylesheet(self) -> XmlDoc:
        for _, part in related(self.pkg, WORKBOOK_PART, "/styles"):
            found = self.pkg.lookup(part)
            if found is not None:
                return self.pkg.doc(found)
        # A package without styles (rare generators): give it Excel's minimal stylesheet.
        root = Element(m("styleSheet"))
        fonts = sub(root, m("fonts"), {"count": "1"})
        font = sub(fonts, m("font"))
        sub(font, m("sz"), {"val": "11"})
        sub(font, m("name"), {"val": "Calibri"})
        fills = sub(root, m("fills"), {"count": "2"})
        sub(sub(fills, m("fill")), m("patternFill"), {"patternType": "none"})
        sub(sub(fills, m("fill")), m("patternFill"), {"patternType": "gray125"})
        border = sub(sub(root, m("borders"), {"count": "1"}), m("border"))
        for side in ("left", "right", "top", "bottom", "diagonal"):
            sub(border, m(side))
        sub(sub(root, m("cellStyleXfs"), {"count": "1"}), m("xf"),
            {"numFmtId": "0", "fontId": "0", "fillId": "0", "borderId": "0"})
        sub(sub(root, m("cellXfs"), {"count": "1"}), m("xf"),
            {"numFmtId": "0", "fontId": "0", "fillId": "0", "borderId": "0", "xfId": "0"})
        sub(sub(root, m("cellStyles"), {"count": "1"}), m("cellStyle"),
            {"name": "Normal", "xfId": "0", "builtinId": "0"})
        doc = new_doc(root, ("", NS_MAIN))
        self.pkg.add_part("xl/styles.xml", doc)
        override(self.pkg, "xl/styles.xml", CT_STYLES)
        add_rel(self.pkg, WORKBOOK_PART, "styles", "xl/styles.xml")
        return doc

    @staticmethod
    def _collection(root: Element, tag: str) -> Element:
        found = root.find(m(tag))
        if found is None:
            raise fail(f"styles.xml ไม่มี <{tag}> / styles.xml has no <{tag}>")
        return found

    def _append_unique(self, collection: Element, record: Element) -> int:
        """Index of an equal record in the collection, appending it if there is none."""
        wanted = canonical(record)
        items = list(collection)
        for i, item in enumerate(items):
            if canonical(item) == wanted:
                return i
        collection.append(record)
        collection.set("count", str(len(items) + 1))
        styles = self.stylesheet()
        self.pkg.touch(self.pkg.name_of(styles))
        return len(items)

    def _clone_xf(self, base: int, **changes: str) -> int:
        xfs = self._collection(self.stylesheet().root, "cellXfs")
        items = list(xfs)
        if not items:
            raise fail("styles.xml ไม่มีรูปแบบเซลล์ / styles.xml has no cell formats")
        xf = copy.deepcopy(items[base] if base < len(items) else items[0])
        xf.tail = None
        for key, value in changes.items():
            xf.set(key, value)
        return self._append_unique(xfs, xf)

    def fill_xf(self, base: int, rgb: str) -> int:
        """Format ``base`` with a solid ``rgb`` (AARRGGBB) fill, keeping number format, font and border."""
        key = ("fill", base, rgb)
        if key not in self._cache:
            fills = self._collection(self.stylesheet().root, "fills")
            fill = Element(m("fill"))
            pattern = sub(fill, m("patternFill"), {"patternType": "solid"})
            sub(pattern, m("fgColor"), {"rgb": rgb})
            sub(pattern, m("bgColor"), {"indexed": "64"})
            fill_id = self._append_unique(fills, fill)
            self._cache[key] = self._clone_xf(base, fillId=str(fill_id), applyFill="1")
        return self._cache[key]

    def bold_xf(self) -> int:
        """The default format with the default font made bold (header rows of added sheets)."""
        key = ("bold", 0, "")
        if key not in self._cache:
            fonts = self._collection(self.stylesheet().root, "fonts")
            first = next(iter(fonts), None)
            font = Element(m("font")) if first is None else copy.deepcopy(first)
            font.tail = None
            for b in font.findall(m("b")):
                font.remove(b)
            font.insert(0, Element(m("b")))
            font_id = self._append_unique(fonts, font)
            self._cache[key] = self._clone_xf(0, fontId=str(font_id), applyFont="1")
        return self._cache[key]

    def table_xf(self, *, bold: bool, align: str, font: str, size: float, header_fill: str) -> int:
        """A boxed, wrapped, top-aligned cell format in ``font`` at ``size``; bold on ``header_fill`` (ARGB)."""
        root = self.stylesheet().root
        font_el = Element(m("font"))
        if bold:
            sub(font_el, m("b"))
        sub(font_el, m("sz"), {"val": number_text(size)})
        sub(font_el, m("name"), {"val": font})
        border = Element(m("border"))
        for side in ("left", "right", "top", "bottom"):
            sub(sub(border, m(side), {"style": "thin"}), m("color"), {"auto": "1"})
        sub(border, m("diagonal"))
        fill = Element(m("fill"))
        pattern = sub(fill, m("patternFill"), {"patternType": "solid" if bold else "none"})
        if bold:
            sub(pattern, m("fgColor"), {"rgb": header_fill})
            sub(pattern, m("bgColor"), {"indexed": "64"})
        ids = {"fontId": self._append_unique(self._collection(root, "fonts"), font_el),
               "fillId": self._append_unique(self._collection(root, "fills"), fill),
               "borderId": self._append_unique(self._collection(root, "borders"), border)}
        xf = Element(m("xf"), {"numFmtId": "0", **{k: str(v) for k, v in ids.items()}, "xfId": "0",
                               "applyFont": "1", "applyFill": "1", "applyBorder": "1", "applyAlignment": "1"})
        sub(xf, m("alignment"), {"horizontal": align, "vertical": "top", "wrapText": "1"})
        return self._append_unique(self._collection(root, "cellXfs"), xf)
