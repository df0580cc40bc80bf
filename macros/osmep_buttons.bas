Attribute VB_Name = "osmep_buttons"
' osmep_xl: the macros behind the buttons of osmep_xl.xlsm.
' Each Sub hands one Python command to xlwings' RunPython (VBA module "xlwings"),
' which runs it with the interpreter set on the xlwings.conf sheet or in the xlwings add-in.
' The Python side reads and writes this workbook through xw.Book.caller(); every caption and
' message is Thai with English alongside and lives in Python (osmep_xl/excel/front.py), so this
' source stays ASCII. Buttons and the action dropdown name these Subs; keep names and commands
' in step with ACTIONS in osmep_xl/excel/front.py (a test checks it).
Option Explicit

' Validate every template in this workbook: findings sheet, highlighted cells, a note per flag.
Public Sub OsmepValidate()
    RunPython "import osmep_xl.excel.buttons as b; b.validate_button()"
End Sub

' Restore the formula of every derived cell; report each typed figure that changes.
Public Sub OsmepRecalc()
    RunPython "import osmep_xl.excel.buttons as b; b.recalc_button()"
End Sub

' Fill a template from the .json/.csv file named in the cell osmep_data_path.
Public Sub OsmepFill()
    RunPython "import osmep_xl.excel.buttons as b; b.fill_button()"
End Sub

' Validate against the previous quarter's workbook named in the cell osmep_previous_path.
Public Sub OsmepImportPrevious()
    RunPython "import osmep_xl.excel.buttons as b; b.import_previous_button()"
End Sub

' Remove the highlights, the notes and the findings sheet of the last validation.
Public Sub OsmepClearFlags()
    RunPython "import osmep_xl.excel.buttons as b; b.clear_flags_button()"
End Sub

'' Build the report (Word, and PDF with LibreOffice) beside this workbook; a draft when it has errors.
Public Sub OsmepBuildReport()
    RunPython "import osmep_xl.excel.buttons as b; b.report_button()"
End Sub

' Run the action chosen in the dropdown osmep_action (what xlwings' "Run main" runs too).
Public Sub OsmepRunSelected()
    RunPython "import osmep_xl; osmep_xl.main()"
End Sub
