"""Tests of the workbook layout and the openpyxl adapter."""
