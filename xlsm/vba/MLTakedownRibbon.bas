Attribute VB_Name = "MLTakedownRibbon"
' Ribbon callbacks of mltakedown.xlsm (tab "ML Takedown", customUI/customUI.xml).
' No logic lives here: each button runs one Python entry point of mltakedown.excel through
' xlwings' RunPython (module "xlwings" in this workbook). Built from xlsm/vba/ by
' "mltakedown build-xlsm"; edit the source there, not in the VBA editor.
Option Explicit

Public Sub OnCheck(control As IRibbonControl)
    RunPython "import mltakedown.excel as x; x.check()"
End Sub

Public Sub OnPull(control As IRibbonControl)
    RunPython "import mltakedown.excel as x; x.pull()"
End Sub

Public Sub OnPlan(control As IRibbonControl)
    RunPython "import mltakedown.excel as x; x.plan()"
End Sub

Public Sub OnExecute(control As IRibbonControl)
    RunPython "import mltakedown.excel as x; x.execute()"
End Sub

Public Sub OnRestore(control As IRibbonControl)
    RunPython "import mltakedown.excel as x; x.restore()"
End Sub

Public Sub OnReport(control As IRibbonControl)
    RunPython "import mltakedown.excel as x; x.report()"
End Sub

Public Sub OnHelp(control As IRibbonControl)
    RunPython "import mltakedown.excel as x; x.help_()"
End Sub
