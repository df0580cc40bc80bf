"""What every part of the lossless writer shares: OOXML names and limits, and :class:`PatchError`.

The writer is split by concern: ``zipio`` (package bytes in, the atomic save out), ``xmldoc`` (XML
parts), ``values`` (cell values and addresses), ``shift`` (moving formula references), ``parts`` and
``rels`` (the package's parts, relationships and content types), ``sheet`` (one worksheet's cells),
``edits`` (writing a cell), ``notes`` (comments and their VML), ``styles``, ``newsheet`` (add_sheet)
and ``patch`` (:class:`~osmep_xl.xlsx.patch.WorkbookPatch`, the API the rest of osmep_xl uses).
"""

from __future__ import annotations

from decimal import Decimal

from .package import NS_MAIN, NS_PKG_REL, NS_REL

CellValue = Decimal | int | float | str | None

NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
NS_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
NS_XML = "http://www.w3.org/XML/1998/namespace"
CT_PART = "[Content_Types].xml"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"
REL_BASE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
# Relationships a replaced add_sheet sheet may drop: nothing else points into them.
DROPPABLE_RELS = ("/hyperlink", "/printerSettings")
MAX_ROWS, MAX_COLS, MAX_TEXT = 1_048_576, 16_384, 32_767
XML_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# Child order of CT_Worksheet and CT_Workbook: a new child must go to its schema position or Excel repairs.
WORKSHEET_ORDER = (
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
    "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate",
    "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting", "dataValidations",
    "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
    "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing",
    "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems", "tableParts",
    "extLst",
)
WORKBOOK_ORDER = (
    "fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews", "sheets", "functionGroups",
    "externalReferences", "definedNames", "calcPr", "oleSize", "customWorkbookViews", "pivotCaches",
    "smartTagPr", "smartTagTypes", "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst",
)
KNOWN_PREFIXES = {NS_REL: "r", NS_MC: "mc"}


class PatchError(Exception):
    """The workbook cannot be patched as asked; the message is Thai / English."""


def fail(reason: str) -> PatchError:
    return PatchError(f"แก้ไขไฟล์ไม่ได้ / cannot patch: {reason}")


def m(tag: str) -> str:
    """Clark name of a SpreadsheetML main-namespace tag."""
    return f"{{{NS_MAIN}}}{tag}"


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


C, F, V, IS, T, ROW = m("c"), m("f"), m("v"), m("is"), m("t"), m("row")
REL_TAG = f"{{{NS_PKG_REL}}}Relationship"
R_ID = f"{{{NS_REL}}}id"
XML_SPACE = f"{{{NS_XML}}}space"
