"""Notes (legacy comments): the text in commentsN.xml, the note box in the sheet's legacy VML drawing.

Excel's VML is HTML-like and not always well-formed XML, so it is patched as bytes: shapes are added
before the closing </xml> and everything else in the drawing (form buttons, other notes) is kept.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from ..a1 import a1
from .ooxml import CT_COMMENTS, CT_VML, R_ID, REL_TAG, WORKSHEET_ORDER, XML_SPACE, fail, m
from .package import NS_MAIN
from .parts import Package
from .rels import add_rel, ensure_default, override, related, rels_doc, resolve
from .sheet import Sheet
from .values import cell_range
from .xmldoc import XmlDoc, insert_ordered, new_doc, sub

VML_NS = (b'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
          b'xmlns:x="urn:schemas-microsoft-com:office:excel"')
VML_SHAPETYPE = (b'<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
                 b'path="m,l,21600r21600,l21600,xe">\n  <v:stroke joinstyle="miter"/>\n'
                 b'  <v:path gradientshapeok="t" o:connecttype="rect"/>\n </v:shapetype>')


def _vml_shape(shape_id: int, row: int, col: int, z_index: int, declare: bool) -> bytes:
    anchor = f"{col + 1}, 15, {max(row - 1, 0)}, {10 if row else 2}, {col + 3}, 15, {row + 3}, 16"
    ns = b" " + VML_NS if declare else b""
    return (
        b'<v:shape' + ns + f' id="_x0000_s{shape_id}" type="#_x0000_t202" style="position:absolute;'
        f"margin-left:{59.25 + 48 * col}pt;margin-top:{1.5 + 15 * max(row - 1, 0)}pt;width:96pt;"
        f'height:55.5pt;z-index:{z_index};visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto">\n'
        '  <v:fill color2="#ffffe1"/>\n  <v:shadow on="t" color="black" obscured="t"/>\n'
        '  <v:path o:connecttype="none"/>\n  <v:textbox style="mso-direction-alt:auto">\n'
        '   <div style="text-align:left"></div>\n  </v:textbox>\n  <x:ClientData ObjectType="Note">\n'
        f"   <x:MoveWithCells/>\n   <x:SizeWithCells/>\n   <x:Anchor>{anchor}</x:Anchor>\n"
        f"   <x:AutoFill>False</x:AutoFill>\n   <x:Row>{row}</x:Row>\n   <x:Column>{col}</x:Column>\n"
        "  </x:ClientData>\n </v:shape>".encode()
    )


def _vml_has_note(vml: bytes, row: int, col: int) -> bool:
    for shape in re.finditer(rb"<(?:\w+:)?shape\b.*?</(?:\w+:)?shape>", vml, re.S):
        block = shape.group()
        if b'ObjectType="Note"' not in block:
            continue
        found_row = re.search(rb"<(?:\w+:)?Row>\s*(\d+)\s*<", block)
        found_col = re.search(rb"<(?:\w+:)?Column>\s*(\d+)\s*<", block)
        if found_row and found_col and (int(found_row[1]), int(found_col[1])) == (row, col):
            return True
    return False


def _vml_blocks(vml: bytes) -> list[int]:
    return [int(x) for match in re.finditer(rb'idmap\b[^>]*\bdata="([\d,\s]*)"', vml)
            for x in match[1].split(b",") if x.strip().isdigit()]


def add_note(pkg: Package, sheet: Sheet, row: int, col: int, body: str, who: str) -> None:
    """Put note ``body`` (by ``who``; both OOXML strings) on a cell, replacing one already there."""
    ref = a1(row, col)
    for _, part in related(pkg, sheet.part, "/threadedComment"):
        found = pkg.lookup(part)
        if found and any(t.get("ref", "").upper() == ref for t in pkg.doc(found).root.iter()):
            raise fail(f"{ref} มีความคิดเห็นแบบเธรด / {ref} has a threaded comment; "
                       "delete it in Excel first")
    comments = _comments_doc(pkg, sheet)
    root = comments.root
    authors = root.find(m("authors"))
    if authors is None:
        authors = Element(m("authors"))
        root.insert(0, authors)
    names = [a.text or "" for a in authors.findall(m("author"))]
    if who not in names:
        sub(authors, m("author"), text=who)
        names.append(who)
    comment_list = root.find(m("commentList"))
    if comment_list is None:
        comment_list = sub(root, m("commentList"))
    new = Element(m("comment"), {"ref": ref, "authorId": str(names.index(who))})
    text_el = sub(new, m("text"))
    run = sub(text_el, m("r"))
    props = sub(run, m("rPr"))
    sub(props, m("sz"), {"val": "9"})
    sub(props, m("color"), {"indexed": "81"})
    sub(props, m("rFont"), {"val": "Tahoma"})
    sub(props, m("family"), {"val": "2"})
    sub(run, m("t"), {XML_SPACE: "preserve"}, body)
    position = None
    for i, old in enumerate(list(comment_list)):
        old_box = cell_range(old.get("ref", ""))
        if old_box and old_box[:2] == (row, col):
            comment_list.remove(old)  # one note per cell: the new text replaces the old
            position = i
            break
    if position is None:  # keep Excel's row-major order
        boxes = [cell_range(old.get("ref", "")) for old in comment_list]
        position = next((i for i, b in enumerate(boxes) if b and b[:2] > (row, col)), len(comment_list))
    comment_list.insert(position, new)
    _add_note_shape(pkg, sheet, row, col)


def _comments_doc(pkg: Package, sheet: Sheet) -> XmlDoc:
    for _, part in related(pkg, sheet.part, "/comments"):
        found = pkg.lookup(part)
        if found is not None:
            pkg.touch(found)
            return pkg.doc(found)
    part = pkg.free_name("xl/comments{}.xml")
    doc = new_doc(Element(m("comments")), ("", NS_MAIN))
    pkg.add_part(part, doc)
    override(pkg, part, CT_COMMENTS)
    add_rel(pkg, sheet.part, "comments", part)
    return doc


def _add_note_shape(pkg: Package, sheet: Sheet, row: int, col: int) -> None:
    legacy = sheet.doc.root.find(m("legacyDrawing"))
    vml_part = None
    if legacy is not None:
        rels = rels_doc(pkg, sheet.part)
        rid = legacy.get(R_ID)
        for rel in [] if rels is None else rels.root.iter(REL_TAG):
            if rel.get("Id") == rid:
                vml_part = pkg.lookup(resolve(sheet.part, rel.get("Target", "")))
    if vml_part is None:
        # Excel shows a note only through a legacy VML drawing; block ids must differ per drawing.
        blocks = [b for name in pkg.names() if name.lower().endswith(".vml")
                  for b in _vml_blocks(pkg.data(name))]
        block = str(max(blocks, default=0) + 1).encode()
        vml_part = pkg.free_name("xl/drawings/vmlDrawing{}.vml")
        vml = (b'<xml ' + VML_NS + b'>\n <o:shapelayout v:ext="edit">\n  <o:idmap v:ext="edit" data="'
               + block + b'"/>\n </o:shapelayout>' + VML_SHAPETYPE + b"\n</xml>\n")
        pkg.add_part(vml_part, raw=vml)
        ensure_default(pkg, "vml", CT_VML)
        if legacy is not None:  # pointed at a missing part: drop it and start again
            sheet.doc.root.remove(legacy)
        legacy = Element(m("legacyDrawing"), {R_ID: add_rel(pkg, sheet.part, "vmlDrawing", vml_part)})
        insert_ordered(sheet.doc.root, legacy, WORKSHEET_ORDER)
        pkg.touch(sheet.part)
    vml = pkg.data(vml_part)
    if _vml_has_note(vml, row, col):
        return
    end = vml.rfind(b"</xml>")
    if end < 0:
        raise fail(f"VML เสียหาย / drawing {vml_part} has no closing </xml>")
    # Our shapes use the v:/o:/x: prefixes; declare them on the shape if the file binds others.
    declare = not all(decl in vml for decl in VML_NS.split(b" "))
    ids = [int(x) for x in re.findall(rb'id="_x0000_s(\d+)"', vml)]
    blocks = _vml_blocks(vml) or [1]
    shape_id = max([*ids, min(blocks) * 1024]) + 1
    insert = b""
    if b'id="_x0000_t202"' not in vml:
        insert += VML_SHAPETYPE.replace(b"<v:shapetype", b"<v:shapetype " + VML_NS, 1) if declare \
            else VML_SHAPETYPE
        insert += b"\n"
    insert += _vml_shape(shape_id, row, col, len(ids) + 1, declare) + b"\n"
    pkg.add_part(vml_part, raw=vml[:end] + insert + vml[end:])
