"""The xlwings.conf sheet of the committed workbook must not trip xlwings' VBA before Python starts."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from mltakedown.book import layout as L
from mltakedown.resources import xlsm_sources_dir

# Keys xlwings' VBA compares with True (`If GetConfig("SHOW CONSOLE", False) = True`): an empty
# cell there is a type mismatch (run-time error 13), so every button would fail.
BOOLEAN_KEYS = {"SHOW CONSOLE", "DEBUG UDFS", "USE UDF SERVER"}


def _conf(path: Path) -> dict[str, object]:
    wb = load_workbook(path, keep_vba=True)
    ws = wb[L.SHEET_XLWINGS_CONF]
    pairs: dict[str, object] = {}
    # xlwings reads keys from A1 down to the first empty cell.
    for row in ws.iter_rows(min_col=1, max_col=2, values_only=True):
        if row[0] is None:
            break
        pairs[str(row[0]).upper()] = row[1]
    return pairs


def test_boolean_keys_are_never_empty() -> None:
    conf = _conf(xlsm_sources_dir() / "mltakedown.xlsm")
    for key in BOOLEAN_KEYS & conf.keys():
        assert str(conf[key]).strip().lower() in {"true", "false"}, f"{key} = {conf[key]!r}"
    assert "SHOW CONSOLE" in conf


def test_interpreter_keys_are_there_to_fill_in() -> None:
    conf = _conf(xlsm_sources_dir() / "mltakedown.xlsm")
    assert {"INTERPRETER_WIN", "INTERPRETER_MAC"} <= conf.keys()
