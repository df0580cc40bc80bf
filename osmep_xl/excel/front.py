"""The front sheet of the ready workbook: its actions, named cells and where they sit.

Shared by the builder (:mod:`osmep_xl.excel.workbook`) and the buttons (:mod:`osmep_xl.excel.buttons`),
so a named cell or a macro is spelt in one place. VBA macro names are ASCII; every caption is Thai first
with English alongside.
"""

from __future__ import annotations

from dataclasses import dataclass

FRONT_SHEET = "หน้าหลัก"
CONF_SHEET = "xlwings.conf"  # xlwings reads its settings from a sheet of this exact name
WORKBOOK_NAME = "osmep_xl.xlsm"  # xlwings' "Run main" imports the module named like the workbook

# Defined names of the front sheet's cells.
NAME_ACTION = "osmep_action"
NAME_DATA_PATH = "osmep_data_path"
NAME_FILL_TEMPLATE = "osmep_fill_template"
NAME_PREVIOUS_PATH = "osmep_previous_path"
NAME_STATUS = "osmep_status"
NAME_ACTIONS = "osmep_actions"  # the dropdown's list

UDF_MODULE = "osmep_xl.excel.udfs"


@dataclass(frozen=True)
class Action:
    """One thing the workbook does: a button, a dropdown entry, a macro and the Python it runs."""

    id: str
    th: str
    en: str
    macro: str  # the VBA Sub in macros/osmep_buttons.bas
    function: str  # in osmep_xl.excel.buttons

    @property
    def label(self) -> str:
        """The dropdown entry."""
        return f"{self.th} / {self.en}"

    @property
    def caption(self) -> str:
        """The button's caption: Thai above English."""
        return f"{self.th}\n{self.en}"

    @property
    def command(self) -> str:
        """The Python command its macro hands to xlwings' RunPython."""
        return f"import osmep_xl.excel.buttons as b; b.{self.function}()"


ACTIONS: tuple[Action, ...] = (
    Action("validate", "ตรวจสอบ", "Validate", "OsmepValidate", "validate_button"),
    Action("recalc", "คำนวณใหม่ (คืนสูตร)", "Recalculate (restore formulas)", "OsmepRecalc", "recalc_button"),
    Action("fill", "เติมข้อมูลจากไฟล์", "Fill from data file", "OsmepFill", "fill_button"),
    Action("import_previous", "เทียบกับไตรมาสก่อน", "Compare with previous quarter", "OsmepImportPrevious",
           "import_previous_button"),
    Action("clear_flags", "ล้างผลตรวจสอบ", "Clear flags", "OsmepClearFlags", "clear_flags_button"),
    Action("report", "สร้างรายงาน", "Build report", "OsmepBuildReport", "report_button"),
)
RUN_SELECTED = Action("run_selected", "เรียกใช้รายการที่เลือก", "Run selected action", "OsmepRunSelected", "main")
RUN_SELECTED_COMMAND = "import osmep_xl; osmep_xl.main()"  # what xlwings' own "Run main" runs too


def find_action(text: str) -> Action | None:
    """The action a dropdown entry, an id, or either caption names (blank: validate)."""
    key = " ".join(str(text or "").split()).casefold()
    if not key:
        return ACTIONS[0]
    for action in ACTIONS:
        if key in {action.id, action.label.casefold(), action.th.casefold(), action.en.casefold()}:
            return action
    return None
