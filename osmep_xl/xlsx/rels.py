"""Relationships and content types of a package: find, add and remove them as OPC requires."""

from __future__ import annotations

import posixpath
from urllib.parse import unquote
from xml.etree.ElementTree import Element

from .ooxml import CT_PART, CT_RELS, NS_CT, REL_BASE, REL_TAG, fail
from .package import NS_PKG_REL
from .parts import Package
from .xmldoc import XmlDoc, new_doc, sub


def rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def rels_doc(pkg: Package, part: str, create: bool = False) -> XmlDoc | None:
    """The relationships part of ``part`` (made, with its content type, if ``create``)."""
    name = rels_name(part)
    found = pkg.lookup(name)
    if found is not None:
        return pkg.doc(found)
    if not create:
        return None
    doc = new_doc(Element(f"{{{NS_PKG_REL}}}Relationships"), ("", NS_PKG_REL))
    pkg.add_part(name, doc)
    ensure_default(pkg, "rels", CT_RELS)
    return doc


def resolve(source_part: str, target: str) -> str:
    """The part a relationship's Target names, relative to the part holding the relationship."""
    target = unquote(target)
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def related(pkg: Package, part: str, rel_suffix: str) -> list[tuple[Element, str]]:
    """(relationship, target part) pairs of ``part`` whose type ends with ``rel_suffix``."""
    doc = rels_doc(pkg, part)
    if doc is None:
        return []
    return [(rel, resolve(part, rel.get("Target", ""))) for rel in doc.root.iter(REL_TAG)
            if rel.get("Type", "").endswith(rel_suffix) and rel.get("TargetMode") != "External"]


def add_rel(pkg: Package, part: str, rel_type: str, target_part: str) -> str:
    """Relate ``part`` to ``target_part``; the new relationship's id."""
    doc = rels_doc(pkg, part, create=True)
    assert doc is not None
    ids = {rel.get("Id") for rel in doc.root.iter(REL_TAG)}
    n = len(ids) + 1
    while f"rId{n}" in ids:
        n += 1
    target = posixpath.relpath(target_part, posixpath.dirname(part))
    sub(doc.root, REL_TAG, {"Id": f"rId{n}", "Type": REL_BASE + rel_type, "Target": target})
    pkg.touch(pkg.name_of(doc))
    return f"rId{n}"


def content_types(pkg: Package) -> XmlDoc:
    name = pkg.lookup(CT_PART)
    if name is None:
        raise fail("ไม่มี [Content_Types].xml / package has no [Content_Types].xml")
    return pkg.doc(name)


def ensure_default(pkg: Package, extension: str, content_type: str) -> None:
    doc = content_types(pkg)
    for default in doc.root.iter(f"{{{NS_CT}}}Default"):
        if default.get("Extension", "").lower() == extension:
            return
    default = Element(f"{{{NS_CT}}}Default", {"Extension": extension, "ContentType": content_type})
    doc.root.insert(0, default)
    pkg.touch(pkg.lookup(CT_PART) or CT_PART)


def override(pkg: Package, part: str, content_type: str | None) -> None:
    """Set (or with None remove) the content-type override of a part."""
    doc = content_types(pkg)
    name = "/" + part
    for over in list(doc.root.iter(f"{{{NS_CT}}}Override")):
        if over.get("PartName", "").lower() == name.lower():
            doc.root.remove(over)
    if content_type is not None:
        sub(doc.root, f"{{{NS_CT}}}Override", {"PartName": name, "ContentType": content_type})
    pkg.touch(pkg.lookup(CT_PART) or CT_PART)


def content_type(pkg: Package, part: str) -> str:
    doc = content_types(pkg)
    for over in doc.root.iter(f"{{{NS_CT}}}Override"):
        if over.get("PartName", "").lower() == "/" + part.lower():
            return over.get("ContentType", "")
    ext = part.rsplit(".", 1)[-1].lower()
    for default in doc.root.iter(f"{{{NS_CT}}}Default"):
        if default.get("Extension", "").lower() == ext:
            return default.get("ContentType", "")
    return ""
