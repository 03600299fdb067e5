"""The functions the workbook's ribbon buttons call (through xlwings' ``RunPython``).

Each button of the "ML Takedown" tab runs one line of VBA,
``RunPython "import mltakedown.excel as x; x.<op>()"``, and lands here. Every entry point does
the same thing: take the calling workbook (``xw.Book.caller()``), wrap it in
:class:`~mltakedown.book.live.LiveWorkbook`, run one engine stage on it, and tell the user how it
went in a short message box, with progress in Excel's status bar meanwhile. Nothing here knows
about rows or the API: the engine does the work, the adapter does the cells.

A failure of the step as a whole (not logged in, no network, a damaged sheet, a bug) never
reaches the user as a bare traceback: it becomes a message box that names the code and what to
do, and the full traceback goes to the Log sheet. A problem with one row is not a failure of the
step: the engine writes it on that row and goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
import traceback
import webbrowser
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from mltakedown import codes
from mltakedown.book import errors as book_errors
from mltakedown.book.live import LiveWorkbook, WorkbookLocationError, XlBook
from mltakedown.book.ports import LogEntry, Result
from mltakedown.codes import Code
from mltakedown.engine import ops, run
from mltakedown.engine.calls import CallLog
from mltakedown.engine.error_codes import classify
from mltakedown.engine.journal import state_dir
from mltakedown.engine.model import Op, StageReport
from mltakedown.meli.calls import CallRecord
from mltakedown.meli.client import MeliClient
from mltakedown.meli.errors import MeliError, TokenError

__all__ = ["check", "execute", "help_", "plan", "pull", "report", "restore"]

TITLE = "ML Takedown"
"""Title of every message box (the ribbon tab's name)."""

GUIDE_SECTION = "Using mltakedown from Excel"
"""The README section the Help button points to."""

_T = TypeVar("_T")

# The few words of the message boxes, per workbook language. Code messages and remedies come from
# the code catalogue (templates/codes), like everywhere else.
_WORDS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "codes": "Codes to look at: {codes} (explained on the Codes sheet).",
        "report_save": "Report reads the saved workbook and the journal beside it. Save the workbook now and continue?",
        "report_done": "Run {run}: {docs} confirmation(s) and {appeals} appeal file(s) in {folder}.",
        "report_glyphs": "The PDF font lacks these characters (shown as ?): {chars}",
        "report_no_run": "Run Execute (or Restore) first: the report describes a run that sent changes.",
        "cancelled": "Cancelled; nothing was written.",
        "check": "Check",
        "pull": "Pull status",
        "plan": "Plan",
        "execute": "Execute",
        "restore": "Restore",
        "report": "Report",
        "done": "{stage} finished.",
        "rows": "{n:,} rows",
        "requests": "{n:,} requests in {s:.0f} s",
        "save": "Save the workbook (Ctrl+S) to keep the results.",
        "stopped": "{stage} stopped. Nothing more was sent.",
        "code": "Code {code}",
        "todo": "What to do:",
        "details": "The technical details are on the Log sheet (last row).",
        "no_log": "The details could not be written to the Log sheet:",
        "confirm_execute": "Execute will now send these changes to Mercado Libre:",
        "confirm_restore": "Restore will now send these changes to Mercado Libre:",
        "confirm_tail": "Rows not listed send nothing. Continue?",
        "unexpected": "Unexpected error",
        "unexpected_todo": (
            "Nothing more was sent. Save the workbook and send it, with the Log sheet, to whoever "
            "supports the tool; run the same step from the command line to see more."
        ),
        "working": "{stage}…",
        "requests_so_far": "{stage}: {n:,} requests…",
        "help": (
            "Work from left to right on the ML Takedown tab:\n"
            "1. Check – offline checks of every row\n"
            "2. Pull status – reads each listing's current state\n"
            "3. Plan – decides the exact change per row (nothing is sent)\n"
            "4. Execute – asks, then sends the planned changes\n"
            "5. Restore – brings back what this tool took down (rows marked RESTORE)\n"
            "6. Report – confirmation documents and the Report sheet\n\n"
            "Fill the blue columns; grey columns are written by the tool. Every code is explained on "
            "the Codes sheet. Save the workbook after each step."
        ),
        "help_open": "Open the full guide ({where})?",
    },
    "es": {
        "codes": "Códigos a revisar: {codes} (explicados en la hoja Codes).",
        "report_save": "El informe lee el libro guardado y el diario junto a él. ¿Guardar el libro ahora y continuar?",
        "report_done": "Ejecución {run}: {docs} confirmación(es) y {appeals} archivo(s) de apelación en {folder}.",
        "report_glyphs": "A la fuente del PDF le faltan estos caracteres (se ven como ?): {chars}",
        "report_no_run": "Primero ejecuta Ejecutar (o Restaurar): el informe describe una ejecución que envió cambios.",
        "cancelled": "Cancelado; no se escribió nada.",
        "check": "Revisar",
        "pull": "Consultar estado",
        "plan": "Planificar",
        "execute": "Ejecutar",
        "restore": "Restaurar",
        "report": "Informe",
        "done": "{stage}: terminado.",
        "rows": "{n:,} filas",
        "requests": "{n:,} solicitudes en {s:.0f} s",
        "save": "Guarda el libro (Ctrl+S) para conservar los resultados.",
        "stopped": "{stage}: detenido. No se envió nada más.",
        "code": "Código {code}",
        "todo": "Qué hacer:",
        "details": "Los detalles técnicos están en la hoja Log (última fila).",
        "no_log": "No se pudieron escribir los detalles en la hoja Log:",
        "confirm_execute": "Ejecutar enviará ahora estos cambios a Mercado Libre:",
        "confirm_restore": "Restaurar enviará ahora estos cambios a Mercado Libre:",
        "confirm_tail": "Las filas no contadas no envían nada. ¿Continuar?",
        "unexpected": "Error inesperado",
        "unexpected_todo": (
            "No se envió nada más. Guarda el libro y envíalo, con la hoja Log, a quien da soporte a "
            "la herramienta; ejecuta el mismo paso desde la línea de comandos para ver más."
        ),
        "working": "{stage}…",
        "requests_so_far": "{stage}: {n:,} solicitudes…",
        "help": (
            "Trabaja de izquierda a derecha en la pestaña ML Takedown:\n"
            "1. Revisar – comprobaciones sin conexión\n"
            "2. Consultar estado – lee el estado actual de cada publicación\n"
            "3. Planificar – decide el cambio exacto por fila (no envía nada)\n"
            "4. Ejecutar – pregunta y luego envía los cambios planificados\n"
            "5. Restaurar – reactiva lo que esta herramienta bajó (filas con RESTAURAR)\n"
            "6. Informe – documentos de confirmación y la hoja Report\n\n"
            "Completa las columnas azules; las grises las escribe la herramienta. Cada código se "
            "explica en la hoja Codes. Guarda el libro después de cada paso."
        ),
        "help_open": "¿Abrir la guía completa ({where})?",
    },
    "pt": {
        "codes": "Códigos a verificar: {codes} (explicados na planilha Codes).",
        "report_save": "O relatório lê a pasta salva e o diário ao lado dela. Salvar a pasta agora e continuar?",
        "report_done": "Execução {run}: {docs} confirmação(ões) e {appeals} arquivo(s) de recurso em {folder}.",
        "report_glyphs": "A fonte do PDF não tem estes caracteres (aparecem como ?): {chars}",
        "report_no_run": "Rode Executar (ou Restaurar) antes: o relatório descreve uma execução que enviou alterações.",
        "cancelled": "Cancelado; nada foi gravado.",
        "check": "Verificar",
        "pull": "Consultar status",
        "plan": "Planejar",
        "execute": "Executar",
        "restore": "Restaurar",
        "report": "Relatório",
        "done": "{stage}: concluído.",
        "rows": "{n:,} linhas",
        "requests": "{n:,} requisições em {s:.0f} s",
        "save": "Salve a pasta de trabalho (Ctrl+S) para manter os resultados.",
        "stopped": "{stage}: interrompido. Nada mais foi enviado.",
        "code": "Código {code}",
        "todo": "O que fazer:",
        "details": "Os detalhes técnicos estão na planilha Log (última linha).",
        "no_log": "Não foi possível gravar os detalhes na planilha Log:",
        "confirm_execute": "Executar vai enviar agora estas alterações ao Mercado Livre:",
        "confirm_restore": "Restaurar vai enviar agora estas alterações ao Mercado Livre:",
        "confirm_tail": "Linhas não contadas não enviam nada. Continuar?",
        "unexpected": "Erro inesperado",
        "unexpected_todo": (
            "Nada mais foi enviado. Salve a pasta e envie-a, com a planilha Log, a quem dá suporte à "
            "ferramenta; rode a mesma etapa pela linha de comando para ver mais."
        ),
        "working": "{stage}…",
        "requests_so_far": "{stage}: {n:,} requisições…",
        "help": (
            "Trabalhe da esquerda para a direita na guia ML Takedown:\n"
            "1. Verificar – verificações sem conexão\n"
            "2. Consultar status – lê o estado atual de cada anúncio\n"
            "3. Planejar – decide a alteração exata por linha (nada é enviado)\n"
            "4. Executar – pergunta e depois envia as alterações planejadas\n"
            "5. Restaurar – reativa o que esta ferramenta tirou do ar (linhas com REATIVAR)\n"
            "6. Relatório – documentos de confirmação e a planilha Report\n\n"
            "Preencha as colunas azuis; as cinza são escritas pela ferramenta. Cada código é "
            "explicado na planilha Codes. Salve a pasta após cada etapa."
        ),
        "help_open": "Abrir o guia completo ({where})?",
    },
    "zh": {
        "codes": "需要关注的代码：{codes}（含义见 Codes 工作表）。",
        "report_save": "报告读取已保存的工作簿及其旁边的日志。现在保存工作簿并继续吗？",
        "report_done": "运行 {run}：在 {folder} 中生成了 {docs} 份确认文件和 {appeals} 个申诉文件。",
        "report_glyphs": "PDF 字体缺少以下字符（显示为 ?）：{chars}",
        "report_no_run": "请先执行“执行”（或“恢复”）：报告描述的是一次发送了更改的运行。",
        "cancelled": "已取消，未写入任何内容。",
        "check": "检查",
        "pull": "拉取状态",
        "plan": "计划",
        "execute": "执行",
        "restore": "恢复",
        "report": "报告",
        "done": "{stage}已完成。",
        "rows": "{n:,} 行",
        "requests": "{n:,} 次请求，用时 {s:.0f} 秒",
        "save": "请保存工作簿（Ctrl+S）以保留结果。",
        "stopped": "{stage}已停止，没有再发送任何更改。",
        "code": "代码 {code}",
        "todo": "处理方法：",
        "details": "技术细节已写入 Log 工作表（最后一行）。",
        "no_log": "无法把细节写入 Log 工作表：",
        "confirm_execute": "执行将向美客多发送以下更改：",
        "confirm_restore": "恢复将向美客多发送以下更改：",
        "confirm_tail": "未列出的行不会发送任何内容。是否继续？",
        "unexpected": "意外错误",
        "unexpected_todo": "没有再发送任何更改。请保存工作簿，并连同 Log 工作表发给工具的维护人员；也可在命令行运行同一步骤查看详情。",
        "working": "{stage}…",
        "requests_so_far": "{stage}：已发送 {n:,} 次请求…",
        "help": (
            "请在 ML Takedown 选项卡上从左到右操作：\n"
            "1. 检查 – 离线检查每一行\n"
            "2. 拉取状态 – 读取每个商品的当前状态\n"
            "3. 计划 – 确定每行的具体更改（不发送）\n"
            "4. 执行 – 确认后发送计划的更改\n"
            "5. 恢复 – 恢复本工具下架的商品（操作为“恢复”的行）\n"
            "6. 报告 – 确认文件和 Report 工作表\n\n"
            "请填写蓝色列，灰色列由工具填写。每个代码的含义见 Codes 工作表。每一步之后请保存工作簿。"
        ),
        "help_open": "打开完整指南（{where}）？",
    },
}


def _words(lang: str) -> Mapping[str, str]:
    return _WORDS.get(codes.normalise_language(lang), _WORDS["en"])


# --- plumbing ------------------------------------------------------------------------------------


def _caller() -> XlBook:
    """The workbook whose button was pressed. xlwings is imported here, not at module level, so
    this module imports (and is tested) where xlwings cannot drive Excel."""
    import xlwings as xw

    book: XlBook = xw.Book.caller()
    return book


def _language(live: LiveWorkbook) -> str:
    """The workbook's language, or English when even the Settings sheet cannot be read."""
    try:
        return live.language
    except Exception:  # a damaged workbook must still get a readable message box
        return "en"


class _ProgressCalls(CallLog):
    """The engine's call log, also showing the request count in the status bar (twice a second at
    most: every status-bar update is a round trip to Excel)."""

    def __init__(self, live: LiveWorkbook, label: str, words: Mapping[str, str]) -> None:
        super().__init__()
        self._live = live
        self._label = label
        self._words = words
        self._shown = 0.0

    def __call__(self, record: CallRecord) -> None:
        super().__call__(record)
        now = time.monotonic()
        if now - self._shown >= 0.5:
            self._shown = now
            self._live.status(self._words["requests_so_far"].format(stage=self._label, n=self.requests))


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed step, as the message box shows it."""

    code: str
    message: str
    remedy: str


def explain(exc: BaseException, lang: str) -> Failure:
    """The code, message and remedy for an exception that stopped a whole step.

    API and network failures map to their execution code (the engine's :func:`classify`); a
    missing login to ``L226``; a damaged or outdated workbook to its workbook error; anything else
    is an unexpected error named by its type.
    """
    words = _words(lang)
    if isinstance(exc, TokenError):
        message, remedy = codes.describe(Code.NOT_LOGGED_IN, lang, exc.message)
        return Failure(Code.NOT_LOGGED_IN.value, message, remedy)
    if isinstance(exc, MeliError | TimeoutError | ConnectionError):
        failure = classify(exc)
        message, remedy = codes.describe(failure.code, lang, failure.message)
        return Failure(failure.code.value, message, remedy)
    if isinstance(exc, book_errors.WorkbookError):
        return Failure(type(exc).__name__, str(exc), _workbook_remedy(exc))
    from mltakedown.report.collect import CollectError  # lazy: see _report

    if isinstance(exc, CollectError):
        return Failure(type(exc).__name__, str(exc), words["report_no_run"])
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return Failure(words["unexpected"], detail, words["unexpected_todo"])


def _workbook_remedy(exc: book_errors.WorkbookError) -> str:
    """What to do about a workbook that cannot be used (English: these name sheets and commands)."""
    if isinstance(exc, WorkbookLocationError):
        return exc.remedy
    if isinstance(exc, book_errors.TemplateVersionError | book_errors.MissingColumnError):
        return "Run 'mltakedown upgrade FILE' on a saved copy of this workbook, or start from 'mltakedown new FILE.xlsm'."
    if isinstance(exc, book_errors.MissingSheetError):
        return "Use a workbook made by 'mltakedown new FILE.xlsm' (or copy your rows into one)."
    if isinstance(exc, book_errors.TooManyRowsError):
        return "Delete the empty formatted rows at the bottom of the sheet, or split the list into several workbooks."
    return "Save the workbook, close it and try again."


def _log_failure(live: LiveWorkbook, stage: str, exc: BaseException) -> str:
    """Write the traceback to the Log sheet; return "" or why that failed."""
    text = "".join(traceback.format_exception(exc))
    entry = LogEntry(
        at=dt.datetime.now(dt.UTC),
        method="ERROR",
        path=stage,
        status=None,
        request_id="",
        duration_ms=0.0,
        note=text,
    )
    try:
        live.append_log([entry])
    except Exception as log_exc:  # the Log sheet itself may be the problem
        return f"{type(log_exc).__name__}: {log_exc}"
    return ""


def _fail(live: LiveWorkbook, stage: str, label: str, exc: BaseException) -> None:
    lang = _language(live)
    words = _words(lang)
    failure = explain(exc, lang)
    log_problem = _log_failure(live, stage, exc)
    lines = [
        words["stopped"].format(stage=label),
        "",
        f"{words['code'].format(code=failure.code)}: {failure.message}",
        "",
        words["todo"],
        failure.remedy,
        "",
    ]
    if log_problem:
        tail = "".join(traceback.format_exception_only(exc)).strip()
        lines += [words["no_log"], log_problem, tail]
    else:
        lines.append(words["details"])
    live.book.app.alert("\n".join(lines), title=TITLE, mode="critical")


def summary_text(report: StageReport, label: str, lang: str) -> str:
    """The message box at the end of a step: counts per result, requests and time, and a reminder
    to save (Excel owns the file; the tool never saves it)."""
    words = _words(lang)
    total = sum(report.counts.values())
    lines = [words["done"].format(stage=label)]
    if total:
        counts = " · ".join(
            f"{r.value} {report.counts[r.value]:,}" for r in Result if report.counts.get(r.value)
        )
        lines.append(f"{words['rows'].format(n=total)}: {counts}")
    if report.message:
        lines.append(report.message)
    problems = [(c, n) for c, n in report.code_counts.items() if c and not _is_fine(c)]
    if problems:
        top = sorted(problems, key=lambda cn: (-cn[1], cn[0]))[:3]
        lines.append(words["codes"].format(codes=", ".join(f"{c} ×{n:,}" for c, n in top)))
    if report.requests:
        lines.append(words["requests"].format(n=report.requests, s=report.seconds))
    lines += ["", words["save"]]
    return "\n".join(lines)


def _is_fine(code_text: str) -> bool:
    """Whether a Code cell's first code is an OK result (those are not worth a mention)."""
    first = code_text.split(",")[0].strip()
    try:
        return codes.spec(Code(first)).result is Result.OK
    except ValueError:
        return False


def confirm_text(counts: Mapping[str, int], stage: str, lang: str) -> str:
    """The confirmation before Execute or Restore sends anything: the writes per operation first
    (``120 pause``, ``3 close``), then the rows that send nothing (``4 blocked``, ``1 restore
    moderated``)."""
    words = _words(lang)
    operations = [op.value for op in Op if counts.get(op.value)]
    quiet = [k for k in counts if k not in operations and k != "rows" and k not in _OPS and counts[k]]
    lines = [words[f"confirm_{stage}"], ""]
    lines += [f"  {counts[k]:,} {k.replace('_', ' ')}" for k in operations] or ["  0"]
    if quiet:
        lines += ["", "  " + ", ".join(f"{counts[k]:,} {k.replace('_', ' ')}" for k in quiet)]
    lines += ["", words["confirm_tail"]]
    return "\n".join(lines)


_OPS = frozenset(op.value for op in Op)


def _asking(live: LiveWorkbook, stage: str) -> Callable[[dict[str, int]], bool]:
    """The engine's ``confirm`` callback: an OK/Cancel box with the counts; only OK goes ahead."""

    def confirm(counts: dict[str, int]) -> bool:
        text = confirm_text(counts, stage, _language(live))
        answer = live.book.app.alert(text, title=TITLE, buttons="ok_cancel", mode="critical")
        return answer == "ok"

    return confirm


def _stage(stage: str, work: Callable[[LiveWorkbook, str], StageReport]) -> StageReport | None:
    """Run one step for the calling workbook: status bar, the work, then a summary or a friendly
    error. Returns the report (``None`` when the step failed), which tests inspect."""
    live = LiveWorkbook(_caller())
    lang = _language(live)
    label = _words(lang)[stage]
    try:
        live.status(_words(lang)["working"].format(stage=label))
        report = work(live, label)
    except Exception as exc:
        _hand_back_status(live)
        _fail(live, stage, label, exc)
        return None
    _hand_back_status(live)
    live.book.app.alert(summary_text(report, label, lang), title=TITLE, mode="info")
    return report


def _hand_back_status(live: LiveWorkbook) -> None:
    """Give the status bar back to Excel; a failure to do so must not hide the step's own message."""
    with contextlib.suppress(Exception):
        live.clear_status()


def _online(live: LiveWorkbook, label: str, body: Callable[[MeliClient, CallLog], Awaitable[_T]]) -> _T:
    """Open the API client for the workbook's account and run ``body`` with it (one event loop
    per button press; RunPython starts a fresh Python each time anyway)."""
    calls = _ProgressCalls(live, label, _words(_language(live)))

    async def main() -> _T:
        api = ops.open_api(live.read_settings(), calls=calls)
        async with api:
            return await body(api, calls)

    return asyncio.run(main())


def _keeping_files(
    work: Callable[[LiveWorkbook, str], StageReport],
) -> Callable[[LiveWorkbook, str], StageReport]:
    """``work`` for a step that keeps its plan or journal beside the workbook: the folder is
    resolved first, so an unsaved workbook (or an unmapped OneDrive one) stops with a clear
    message before any request, not after minutes of reads."""

    def guarded(live: LiveWorkbook, label: str) -> StageReport:
        _ = live.path  # raises WorkbookLocationError, shown with its remedy
        return work(live, label)

    return guarded


# --- the ribbon's entry points -------------------------------------------------------------------


def check() -> StageReport | None:
    """Check: offline checks of every row (no network)."""
    return _stage("check", lambda live, label: ops.check(live))


def pull() -> StageReport | None:
    """Pull status: read each listing's current state (read-only)."""
    return _stage(
        "pull", lambda live, label: _online(live, label, lambda api, calls: ops.pull(live, api, calls=calls))
    )


def plan() -> StageReport | None:
    """Plan: the exact change per row, stored beside the workbook (read-only)."""

    async def body(live: LiveWorkbook, api: MeliClient, calls: CallLog) -> StageReport:
        _, report = await ops.plan(live, api, calls=calls)
        return report

    return _stage(
        "plan",
        _keeping_files(lambda live, label: _online(live, label, lambda api, calls: body(live, api, calls))),
    )


def execute() -> StageReport | None:
    """Execute: confirm with the counts, then send the planned changes."""
    return _stage(
        "execute",
        _keeping_files(
            lambda live, label: _online(
                live,
                label,
                lambda api, calls: run.execute(live, api, confirm=_asking(live, "execute"), calls=calls),
            )
        ),
    )


def restore() -> StageReport | None:
    """Restore: confirm, then bring back what this tool took down on the rows marked RESTORE."""
    return _stage(
        "restore",
        _keeping_files(
            lambda live, label: _online(
                live,
                label,
                lambda api, calls: run.restore(live, api, confirm=_asking(live, "restore"), calls=calls),
            )
        ),
    )


def _report(live: LiveWorkbook, label: str) -> StageReport:
    """Save the workbook (the report layer reads the saved file and the journal beside it), write
    the confirmation documents and appeal packs, and lay the Report sheet's table into Excel."""
    # Imported here, not at the top: the PDF and openpyxl machinery is slow to import, and every
    # button press starts a fresh Python (RunPython), so the other buttons should not pay for it.
    import openpyxl

    from mltakedown.report.collect import collect_run
    from mltakedown.report.output import write_documents
    from mltakedown.report.sheet import write_report_sheet

    lang = _language(live)
    words = _words(lang)
    # Before asking to save: xlwings saves a never-saved book as <working folder>/Book1.xlsx without
    # a word (dropping the macros), and the report needs the folder beside the workbook anyway.
    _ = live.path
    answer = live.book.app.alert(words["report_save"], title=TITLE, buttons="ok_cancel", mode="info")
    if answer != "ok":
        return StageReport(stage="report", run_id="", message=words["cancelled"])
    live.book.save()
    record = collect_run(live.path)
    files = write_documents(record, state_dir(live.path) / "reports", [None], workbook=live.path)
    scratch = openpyxl.Workbook()
    sheet = write_report_sheet(scratch, record, lang)
    live.write_report([list(row) for row in sheet.iter_rows(values_only=True)], sheet_name=sheet.title)
    counts: dict[str, int] = {}
    for row in record.rows:
        if row.result is not None:
            counts[row.result.value] = counts.get(row.result.value, 0) + 1
    message = words["report_done"].format(
        run=record.run_id, docs=len(files.confirmations), appeals=len(files.appeals), folder=files.folder
    )
    if files.missing_glyphs:
        message += "\n" + words["report_glyphs"].format(chars=" ".join(sorted(files.missing_glyphs)))
    return StageReport(stage="report", run_id=record.run_id, counts=counts, message=message)


def report() -> StageReport | None:
    """Report: confirmation documents, appeal packs and the Report sheet for the latest run."""
    return _stage("report", _report)


def _guide() -> Path | None:
    """The README beside the installed sources, when there is one (a checkout or an editable install)."""
    candidate = Path(__file__).resolve().parents[2] / "README.md"
    return candidate if candidate.is_file() else None


def help_() -> None:
    """Help: the button order in a message box, and the full guide on request."""
    live = LiveWorkbook(_caller())
    words = _words(_language(live))
    guide = _guide()
    text = words["help"]
    if guide is None:
        live.book.app.alert(f"{text}\n\nREADME: {GUIDE_SECTION}", title=TITLE, mode="info")
        return
    where = f"{guide.name}, “{GUIDE_SECTION}”"
    answer = live.book.app.alert(
        f"{text}\n\n{words['help_open'].format(where=where)}", title=TITLE, buttons="yes_no", mode="info"
    )
    if answer == "yes":
        webbrowser.open(guide.as_uri())
