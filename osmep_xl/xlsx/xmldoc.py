"""XML parts: parse with defusedxml, serialise keeping each namespace declaration where it was.

Edited parts are re-serialised by a small writer that keeps every namespace declaration on the element
that declared it, so prefixes (and those listed in mc:Ignorable) survive; text and attributes are
escaped so that a parser reads back exactly what was set.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, ElementTree

from .ooxml import KNOWN_PREFIXES, NS_MC, NS_XML, XML_DECL, fail, local


@dataclass
class XmlDoc:
    root: Element
    decls: dict[Element, list[tuple[str, str]]]  # element -> its own xmlns declarations, in source order
    prolog: bytes = XML_DECL
    epilogue: bytes = b""


def new_doc(root: Element, *namespaces: tuple[str, str]) -> XmlDoc:
    return XmlDoc(root, {root: list(namespaces)})


def _split_prolog(data: bytes) -> tuple[bytes, bytes]:
    """The bytes before the root element (XML declaration, comments) and the trailing whitespace."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return XML_DECL, b""  # UTF-16 input: written back as UTF-8, so a fresh declaration
    pos = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while pos < len(data) and data[pos : pos + 1].isspace():
            pos += 1
        if data.startswith(b"<?", pos):
            end = data.find(b"?>", pos)
        elif data.startswith(b"<!--", pos):
            end = data.find(b"-->", pos)
        else:
            break
        if end < 0:
            break
        pos = data.find(b">", end) + 1
    prolog = data[:pos]
    declared = re.search(rb"encoding\s*=\s*[\"']([^\"']+)", prolog)
    if declared and declared.group(1).lower().replace(b"-", b"") != b"utf8":
        prolog = XML_DECL  # we always write UTF-8, so the declaration must say so
    stripped = data.rstrip()
    return prolog, data[len(stripped):]


def parse_xml(data: bytes, part: str) -> XmlDoc:
    decls: dict[Element, list[tuple[str, str]]] = {}
    pending: list[tuple[str, str]] = []
    root: Element | None = None
    try:
        for event, item in ElementTree.iterparse(io.BytesIO(data), events=("start-ns", "start")):
            if event == "start-ns":
                pending.append(item)
                continue
            if root is None:
                root = item
            if pending:
                decls[item] = pending
                pending = []
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise fail(f"XML เสียหาย / part {part} is not safe, well-formed XML ({exc})") from exc
    if root is None:
        raise fail(f"ส่วนว่างเปล่า / part {part} is empty")
    prolog, epilogue = _split_prolog(data)
    return XmlDoc(root, decls, prolog, epilogue)


def _esc_text(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")  # a parser would turn a raw CR into LF
    return text


def _esc_attr(text: str) -> str:
    text = _esc_text(text)
    if '"' in text:
        text = text.replace('"', "&quot;")
    # Raw whitespace in attribute values is normalised to spaces by parsers; escape to keep it.
    return text.replace("\n", "&#10;").replace("\t", "&#9;")


escape_text, escape_attr = _esc_text, _esc_attr  # for bytes spliced into a part (xlsx/splice.py)


class _Scope:
    """Prefix bindings in force at an element, with a cache of Clark names already turned into QNames."""

    def __init__(self, bindings: dict[str, str]) -> None:
        self.bindings = bindings
        self.tags: dict[str, str] = {}
        self.attrs: dict[str, str] = {}

    def prefix_for(self, uri: str, *, attr: bool) -> str | None:
        if not attr and self.bindings.get("") == uri:
            return ""
        return next((p for p, bound in reversed(self.bindings.items()) if p and bound == uri), None)


class _Writer:
    def __init__(self, decls: dict[Element, list[tuple[str, str]]]) -> None:
        self.decls = decls
        self.out: list[str] = []

    def element(self, elem: Element, scope: _Scope) -> None:
        declared = self.decls.get(elem)
        if declared:
            scope = _Scope({**scope.bindings, **dict(declared)})
        emitted: list[tuple[str, str]] = list(declared or ())
        tag = scope.tags.get(elem.tag)
        if tag is None:
            tag, scope = self._qname(elem.tag, scope, emitted, attr=False)
        parts = ["<", tag]
        attrs: list[tuple[str, str]] = []
        for name, value in elem.attrib.items():
            qname = scope.attrs.get(name)
            if qname is None:
                qname, scope = self._qname(name, scope, emitted, attr=True)
            attrs.append((qname, value))
        for prefix, uri in emitted:
            parts.append(f' xmlns:{prefix}="{_esc_attr(uri)}"' if prefix else f' xmlns="{_esc_attr(uri)}"')
        for qname, value in attrs:
            parts.append(f' {qname}="{_esc_attr(value)}"')
        children = list(elem)
        if not children and not elem.text:
            parts.append("/>")
            self.out.append("".join(parts))
        else:
            parts.append(">")
            if elem.text:
                parts.append(_esc_text(elem.text))
            self.out.append("".join(parts))
            for child in children:
                self.element(child, scope)
            self.out.append(f"</{tag}>")
        if elem.tail:
            self.out.append(_esc_text(elem.tail))

    def _qname(
        self, name: str, scope: _Scope, emitted: list[tuple[str, str]], *, attr: bool
    ) -> tuple[str, _Scope]:
        cache = scope.attrs if attr else scope.tags
        if name[0] != "{":
            if attr or not scope.bindings.get(""):
                cache[name] = name
                return name, scope
            # An unqualified element under a default namespace needs xmlns="" to stay unqualified.
            emitted.append(("", ""))
            scope = _Scope({**scope.bindings, "": ""})
            scope.tags[name] = name
            return name, scope
        uri, local = name[1:].split("}", 1)
        if uri == NS_XML:
            cache[name] = f"xml:{local}"
            return cache[name], scope
        prefix = scope.prefix_for(uri, attr=attr)
        if prefix is None:
            # Not bound here (only for elements we added): declare it on this element.
            prefix = KNOWN_PREFIXES.get(uri, "ns0")
            n = 0
            while prefix in scope.bindings:
                n += 1
                prefix = f"ns{n}"
            emitted.append((prefix, uri))
            scope = _Scope({**scope.bindings, prefix: uri})
            cache = scope.attrs if attr else scope.tags
        qname = f"{prefix}:{local}" if prefix else local
        cache[name] = qname
        return qname, scope


def serialise(doc: XmlDoc) -> bytes:
    writer = _Writer(doc.decls)
    writer.element(doc.root, _Scope({}))
    return doc.prolog + "".join(writer.out).encode("utf-8") + doc.epilogue


def sub(parent: Element, tag: str, attrib: dict[str, str] | None = None, text: str | None = None) -> Element:
    child = Element(tag, attrib or {})
    if text is not None:
        child.text = text
    parent.append(child)
    return child


def _order_key(elem: Element) -> str:
    """Local name used to place siblings; mc:AlternateContent counts as the element it wraps."""
    if elem.tag == f"{{{NS_MC}}}AlternateContent":
        for choice in elem:
            for inner in choice:
                return local(inner.tag)
    return local(elem.tag)


def insert_ordered(parent: Element, child: Element, order: tuple[str, ...]) -> None:
    rank = order.index(local(child.tag))
    for i, sibling in enumerate(parent):
        key = _order_key(sibling)
        if key in order and order.index(key) > rank:
            parent.insert(i, child)
            return
    parent.append(child)


def canonical(elem: Element) -> tuple[object, ...]:
    """Structure of an element, to find an existing style record equal to one we would add."""
    return (elem.tag, tuple(sorted(elem.attrib.items())), (elem.text or "").strip(),
            tuple(canonical(child) for child in elem))

