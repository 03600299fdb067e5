"""The one definition of the takedown workbook: sheets, columns, texts, drop-downs and colours.

Every adapter (openpyxl files, live Excel, the ``.xlsm`` builder) reads this module instead of
repeating literals. Columns are addressed by *key* (``identifier``, ``status_before``…); the
header text a user sees depends on the workbook's language, and reading accepts a header in any
of the four languages, in any column order.

The ``Takedown`` sheet is laid out as::

    row 1   summary labels   (Summary | OK | SKIPPED | WARNING | BLOCKED | FAILED | Total | Stage | At)
    row 2   summary values
    row 3   a one-line how-to
    row 4   the table header (fixed: HEADER_ROW)
    row 5…  data rows

Bump :data:`TEMPLATE_VERSION` whenever this layout changes in a way an older workbook does not
have; ``mltakedown upgrade`` migrates older workbooks and keeps every input.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from types import MappingProxyType

from mltakedown.book.ports import BookSettings, Result

TEMPLATE_VERSION = "1"
"""The layout version stamped in new workbooks (Settings key and defined name)."""

TEMPLATE_VERSION_KEY = "TEMPLATE_VERSION"
"""The Settings key holding the template version."""

TEMPLATE_VERSION_NAME = "MLTAKEDOWN_TEMPLATE_VERSION"
"""A workbook-level defined name holding the template version (a second stamp, survives edits)."""

RESULT_COLOURS_KEY = "RESULT_COLOURS"
"""The Settings key saying how the Result column gets its colours."""

RESULT_COLOURS_CONDITIONAL = "conditional"
"""The :data:`RESULT_COLOURS_KEY` value of a workbook whose Takedown sheet carries conditional
formatting rules for the Result column: the adapters then write no colours at all (Excel, or
LibreOffice, colours each cell from its value). Any other value, or no key (workbooks made before
the rules existed), means the adapters paint each Result cell themselves.

Not a template version bump on purpose: an older workbook keeps working (with painted colours)
until ``mltakedown upgrade`` adds the rules and this marker."""

SHEET_TAKEDOWN = "Takedown"
SHEET_SETTINGS = "Settings"
SHEET_LOG = "Log"
SHEET_SNAPSHOTS = "Snapshots"
SHEET_CODES = "Codes"
SHEET_XLWINGS_CONF = "xlwings.conf"
SHEETS: tuple[str, ...] = (
    SHEET_TAKEDOWN,
    SHEET_SETTINGS,
    SHEET_LOG,
    SHEET_SNAPSHOTS,
    SHEET_CODES,
    SHEET_XLWINGS_CONF,
)
"""Sheet names (never translated: code and VBA find sheets by these names)."""

SUMMARY_LABEL_ROW = 1
SUMMARY_VALUE_ROW = 2
NOTE_ROW = 3
HEADER_ROW = 4
FIRST_DATA_ROW = 5
HEADER_SEARCH_ROWS = 12
"""How far down ``upgrade`` looks for the header of a workbook made without the template."""

MAX_DATA_ROWS = 200_000
"""More data rows than this is refused: the sheet is not a takedown list (or holds junk)."""

Texts = Mapping[str, str]
"""A text per language (``zh``, ``es``, ``pt``, ``en``)."""


def _t(en: str, es: str, pt: str, zh: str) -> Texts:
    return MappingProxyType({"en": en, "es": es, "pt": pt, "zh": zh})


class Owner(StrEnum):
    """Who writes a column: the user (input) or the tool (output)."""

    INPUT = "input"
    OUTPUT = "output"


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a sheet: key, header per language, width and owner."""

    key: str
    headers: Texts
    width: float
    owner: Owner = Owner.OUTPUT
    as_text: bool = False
    """Format the column as Text (``@``) so Excel leaves SKUs and IDs alone."""
    required: bool = False
    """An input column that must exist for the sheet to be read."""

    def header(self, lang: str) -> str:
        """The header text in ``lang`` (English when ``lang`` is unknown)."""
        return self.headers.get(lang, self.headers["en"])


_IN, _OUT = Owner.INPUT, Owner.OUTPUT

TAKEDOWN_COLUMNS: tuple[Column, ...] = (
    Column("identifier", _t("Identifier", "Identificador", "Identificador", "标识"), 28, _IN, True, True),
    Column("action", _t("Action", "Acción", "Ação", "操作"), 12, _IN, required=True),
    Column("reason", _t("Reason", "Motivo", "Motivo", "原因"), 22, _IN),
    Column("reference", _t("Reference", "Referencia", "Referência", "参考编号"), 18, _IN, True),
    Column("confirm", _t("Confirm", "Confirmar", "Confirmar", "确认"), 10, _IN),
    Column("note", _t("Note", "Nota", "Observação", "备注"), 24, _IN),
    Column("id_type", _t("ID type", "Tipo de ID", "Tipo de ID", "ID 类型"), 12, _IN),
    Column("item_id", _t("Item ID", "ID de publicación", "ID do anúncio", "商品 ID"), 16, _OUT, True),
    Column("variation_id", _t("Variation ID", "ID de variante", "ID da variação", "变体 ID"), 14, _OUT, True),
    Column("site", _t("Site", "Sitio", "Site do ML", "站点"), 6),
    Column("title", _t("Title", "Título", "Título", "标题"), 36),
    Column("status_before", _t("Status before", "Estado antes", "Status antes", "之前状态"), 12),
    Column("sub_status", _t("Sub-status", "Subestado", "Subestado", "子状态"), 14),
    Column("available_qty", _t("Available qty", "Stock disponible", "Estoque disponível", "可售库存"), 10),
    Column("pending_orders", _t("Pending orders", "Ventas pendientes", "Vendas pendentes", "待发货订单"), 10),
    Column("ad_status", _t("Ad status", "Estado de Ads", "Status de Ads", "广告状态"), 10),
    Column("full", _t("FULL", "FULL", "FULL", "FULL"), 7),
    Column("catalog", _t("Catalogue", "Catálogo", "Catálogo", "目录"), 9),
    Column(
        "questions",
        _t("Open questions", "Preguntas sin responder", "Perguntas sem resposta", "未回答问题"),
        10,
    ),
    Column("planned_action", _t("Planned action", "Acción planificada", "Ação planejada", "计划操作"), 14),
    Column("result", _t("Result", "Resultado", "Resultado", "结果"), 11),
    Column("code", _t("Code", "Código", "Código", "代码"), 8),
    Column("message", _t("Message", "Mensaje", "Mensagem", "说明"), 50),
    Column("remedy", _t("Remedy", "Qué hacer", "O que fazer", "处理方法"), 50),
    Column("api_error", _t("API error", "Error de la API", "Erro da API", "API 错误"), 30),
    Column("status_after", _t("Status after", "Estado después", "Status depois", "之后状态"), 12),
    Column("done_at_utc", _t("Done at (UTC)", "Hecho el (UTC)", "Feito em (UTC)", "完成时间（UTC）"), 20),
    Column(
        "done_at_local", _t("Done at (local)", "Hecho el (local)", "Feito em (local)", "完成时间（本地）"), 20
    ),
    Column("request_id", _t("Request ID", "ID de solicitud", "ID da requisição", "请求 ID"), 22),
    Column("new_item_id", _t("New item ID", "ID nuevo", "ID novo", "新商品 ID"), 16, _OUT, True),
)
"""The Takedown table, in the order a new workbook lays it out."""

INPUT_KEYS: tuple[str, ...] = tuple(c.key for c in TAKEDOWN_COLUMNS if c.owner is Owner.INPUT)
OUTPUT_KEYS: tuple[str, ...] = tuple(c.key for c in TAKEDOWN_COLUMNS if c.owner is Owner.OUTPUT)
VERDICT_KEYS: tuple[str, ...] = ("result", "code", "message", "remedy")
"""Output columns every stage writes (they have their own fields on an Outcome)."""

LOG_COLUMNS: tuple[Column, ...] = (
    Column("at_utc", _t("At (UTC)", "Fecha (UTC)", "Data (UTC)", "时间（UTC）"), 20),
    Column("method", _t("Method", "Método", "Método", "方法"), 8),
    Column("path", _t("Path", "Ruta", "Caminho", "路径"), 48),
    Column("status", _t("HTTP status", "Estado HTTP", "Status HTTP", "HTTP 状态"), 10),
    Column("request_id", _t("Request ID", "ID de solicitud", "ID da requisição", "请求 ID"), 24),
    Column("duration_ms", _t("Duration (ms)", "Duración (ms)", "Duração (ms)", "耗时（毫秒）"), 12),
    Column("row", _t("Row", "Fila", "Linha", "行"), 7),
    Column("run_id", _t("Run", "Ejecución", "Execução", "运行 ID"), 22),
    Column("note", _t("Note", "Nota", "Observação", "备注"), 40),
)
"""The Log sheet: one row per API call, appended."""

SNAPSHOT_COLUMNS: tuple[Column, ...] = (
    Column("run_id", _t("Run", "Ejecución", "Execução", "运行 ID"), 22),
    Column("taken_at", _t("Taken at (UTC)", "Tomada el (UTC)", "Tirada em (UTC)", "快照时间（UTC）"), 20),
    Column("item_id", _t("Item ID", "ID de publicación", "ID do anúncio", "商品 ID"), 16, as_text=True),
    Column(
        "variation_id", _t("Variation ID", "ID de variante", "ID da variação", "变体 ID"), 14, as_text=True
    ),
    Column("site", _t("Site", "Sitio", "Site do ML", "站点"), 6),
    Column("status", _t("Status", "Estado", "Status", "状态"), 10),
    Column("sub_status", _t("Sub-status", "Subestado", "Subestado", "子状态"), 14),
    Column(
        "available_quantity", _t("Available qty", "Stock disponible", "Estoque disponível", "可售库存"), 10
    ),
    Column("price", _t("Price", "Precio", "Preço", "价格"), 10),
    Column("title", _t("Title", "Título", "Título", "标题"), 36),
    Column("sha256", _t("SHA-256", "SHA-256", "SHA-256", "SHA-256"), 20),
    Column("file", _t("File", "Archivo", "Arquivo", "文件"), 30),
    Column("raw_json", _t("Full JSON", "JSON completo", "JSON completo", "完整 JSON"), 60),
)
"""The Snapshots sheet: the state of every item before the first write, appended."""

CODES_COLUMNS: tuple[Column, ...] = (
    Column("code", _t("Code", "Código", "Código", "代码"), 8),
    Column("severity", _t("Severity", "Gravedad", "Gravidade", "严重程度"), 12),
    Column("blocks", _t("Blocks the write", "Bloquea el cambio", "Bloqueia a alteração", "阻止修改"), 12),
    Column("result", _t("Result", "Resultado", "Resultado", "结果"), 11),
    Column("message", _t("Message", "Mensaje", "Mensagem", "说明"), 70),
    Column("remedy", _t("Remedy", "Qué hacer", "O que fazer", "处理方法"), 70),
)
"""The Codes sheet, generated from the code catalogue in the workbook's language."""

SETTINGS_HEADERS: tuple[Texts, ...] = (
    _t("Key", "Clave", "Chave", "键"),
    _t("Value", "Valor", "Valor", "值"),
    _t("Note", "Nota", "Observação", "说明"),
)


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """One key of the Settings sheet (column A key, B value, C note)."""

    key: str
    default: str
    notes: Texts


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        TEMPLATE_VERSION_KEY,
        TEMPLATE_VERSION,
        _t(
            "Layout version; do not edit (mltakedown upgrade changes it)",
            "Versión del formato; no la edites (mltakedown upgrade la cambia)",
            "Versão do layout; não edite (mltakedown upgrade altera)",
            "模板版本，请勿修改（由 mltakedown upgrade 更新）",
        ),
    ),
    SettingSpec(
        "LANGUAGE",
        "en",
        _t(
            "Language of headers and messages: zh, es, pt or en",
            "Idioma de encabezados y mensajes: zh, es, pt o en",
            "Idioma dos cabeçalhos e mensagens: zh, es, pt ou en",
            "表头和说明的语言：zh、es、pt 或 en",
        ),
    ),
    SettingSpec(
        "ACCOUNT_ALIAS",
        "",
        _t(
            "Name of the saved login to use (empty: the default login)",
            "Nombre del inicio de sesión guardado (vacío: el predeterminado)",
            "Nome do login salvo a usar (vazio: o login padrão)",
            "要使用的已保存登录名（留空：默认登录）",
        ),
    ),
    SettingSpec(
        "SELLER_ID",
        "",
        _t(
            "Mercado Libre seller ID this sheet belongs to; the logged-in account must match",
            "ID de vendedor de Mercado Libre de esta hoja; la cuenta con sesión debe coincidir",
            "ID de vendedor do Mercado Livre desta planilha; a conta conectada deve ser a mesma",
            "本表所属的美客多卖家 ID；登录账号必须一致",
        ),
    ),
    SettingSpec(
        "DEFAULT_SITE",
        "",
        _t(
            "Site used to look up SKUs when a row does not say (e.g. MLM)",
            "Sitio para buscar los SKU cuando la fila no lo indica (p. ej. MLM)",
            "Site usado para buscar SKUs quando a linha não indica (ex. MLB)",
            "行中未注明时用于查找 SKU 的站点（例如 MLM）",
        ),
    ),
    SettingSpec(
        "SITES",
        "",
        _t(
            "Sites the account sells on, comma-separated (empty: not checked)",
            "Sitios donde vende la cuenta, separados por comas (vacío: no se comprueba)",
            "Sites onde a conta vende, separados por vírgula (vazio: não verificado)",
            "账号销售的站点，用逗号分隔（留空：不检查）",
        ),
    ),
    SettingSpec(
        "PAUSE_ADS_WITH_LISTING",
        "yes",
        _t(
            "Pause the listing's ads together with the listing (yes/no)",
            "Pausar los anuncios de Ads junto con la publicación (sí/no)",
            "Pausar a publicidade junto com o anúncio (sim/não)",
            "暂停商品时同时暂停其广告（是/否）",
        ),
    ),
    SettingSpec(
        RESULT_COLOURS_KEY,
        RESULT_COLOURS_CONDITIONAL,
        _t(
            "conditional: Excel colours the Result column by rules; empty: mltakedown paints each cell",
            "conditional: Excel colorea la columna Resultado con reglas; vacío: mltakedown pinta cada celda",
            "conditional: o Excel colore a coluna Resultado por regras; vazio: o mltakedown pinta cada célula",
            "conditional：由 Excel 按规则为“结果”列着色；留空：由 mltakedown 逐格填色",
        ),
    ),
)
"""The Settings sheet's keys, defaults and notes."""

XLWINGS_CONF: tuple[tuple[str, str, Texts], ...] = (
    (
        "INTERPRETER_WIN",
        "",
        _t(
            "Full path of python.exe on Windows (empty: python on the PATH)",
            "Ruta completa de python.exe en Windows (vacío: python del PATH)",
            "Caminho completo do python.exe no Windows (vazio: python do PATH)",
            "Windows 上 python.exe 的完整路径（留空：使用 PATH 中的 python）",
        ),
    ),
    (
        "INTERPRETER_MAC",
        "",
        _t(
            "Full path of python on macOS (empty: python on the PATH)",
            "Ruta completa de python en macOS (vacío: python del PATH)",
            "Caminho completo do python no macOS (vazio: python do PATH)",
            "macOS 上 python 的完整路径（留空：使用 PATH 中的 python）",
        ),
    ),
    (
        "PYTHONPATH",
        "",
        _t(
            "Extra folders for Python imports (empty: none needed when mltakedown is installed)",
            "Carpetas extra para Python (vacío: no hace falta si mltakedown está instalado)",
            "Pastas extras para o Python (vazio: desnecessário com o mltakedown instalado)",
            "额外的 Python 导入目录（已安装 mltakedown 时留空）",
        ),
    ),
    (
        "ADD_WORKBOOK_TO_PYTHONPATH",
        "False",
        _t(
            "False: mltakedown is installed, so the workbook's folder is not added to Python's path",
            "False: mltakedown está instalado; la carpeta del libro no se añade a la ruta de Python",
            "False: o mltakedown está instalado; a pasta da pasta de trabalho não entra no caminho do Python",
            "False：已安装 mltakedown，不把工作簿所在文件夹加入 Python 路径",
        ),
    ),
    (
        "SHOW CONSOLE",
        # Never empty: xlwings' VBA compares this value with True, and an empty cell there is a
        # type mismatch that stops every button before Python starts.
        "False",
        _t(
            "True shows Python's console window while a button runs (Windows; for troubleshooting)",
            "True muestra la consola de Python mientras corre un botón (Windows; para diagnosticar)",
            "True mostra o console do Python enquanto um botão roda (Windows; para diagnóstico)",
            "True：按钮运行时显示 Python 控制台窗口（Windows，用于排查问题）",
        ),
    ),
)
"""The ``xlwings.conf`` sheet: A key, B value (xlwings reads A:B only), C a note for people."""

ACTION_CHOICES: Mapping[str, Texts] = MappingProxyType(
    {
        "PAUSE": _t("PAUSE", "PAUSAR", "PAUSAR", "暂停"),
        "CLOSE": _t("CLOSE", "CERRAR", "ENCERRAR", "关闭"),
        "DELETE": _t("DELETE", "ELIMINAR", "EXCLUIR", "删除"),
        "RESTORE": _t("RESTORE", "RESTAURAR", "REATIVAR", "恢复"),
        "IGNORE": _t("IGNORE", "IGNORAR", "IGNORAR", "忽略"),
    }
)
"""Action drop-down labels per language, keyed by the canonical action."""

REASON_CHOICES: Mapping[str, Texts] = MappingProxyType(
    {
        "IP_COMPLAINT": _t("IP complaint", "Denuncia de PI", "Denúncia de PI", "知识产权投诉"),
        "TRO": _t("TRO", "TRO", "TRO", "TRO"),
        "POLICY_VIOLATION": _t(
            "Policy violation", "Infracción de políticas", "Violação de política", "违反政策"
        ),
        "MISSING_CERTIFICATION": _t(
            "Missing certification", "Falta de certificación", "Falta de certificação", "缺少认证"
        ),
        "STOCK_OUT": _t("Stock-out", "Sin stock", "Sem estoque", "缺货"),
        "MARKET_EXIT": _t("Market exit", "Salida del mercado", "Saída do mercado", "退出市场"),
        "OTHER": _t("Other", "Otro", "Outro", "其他"),
    }
)
"""Reason drop-down labels per language, keyed by the canonical reason."""

CONFIRM_CHOICE: Texts = _t("yes", "sí", "sim", "是")
"""The word the Confirm drop-down offers."""

RESULT_FILLS: Mapping[Result, str] = MappingProxyType(
    {
        Result.OK: "C6EFCE",
        Result.SKIPPED: "E7E6E6",
        Result.WARNING: "FFEB9C",
        Result.BLOCKED: "FFC7CE",
        Result.FAILED: "FF8080",
    }
)
"""Background colour of the Result cell (RGB hex) per result."""

RESULT_FONTS: Mapping[Result, str] = MappingProxyType(
    {
        Result.OK: "006100",
        Result.SKIPPED: "595959",
        Result.WARNING: "9C5700",
        Result.BLOCKED: "9C0006",
        Result.FAILED: "600000",
    }
)
"""Text colour of the Result cell per result."""


def conditional_colours(settings: BookSettings) -> bool:
    """Whether the workbook colours its Result column by conditional formatting (see
    :data:`RESULT_COLOURS_CONDITIONAL`), so adapters must not paint Result cells."""
    value = settings.extra.get(RESULT_COLOURS_KEY, "")
    return value.strip().casefold() == RESULT_COLOURS_CONDITIONAL


PRINT_TITLE_ROWS: Mapping[str, str] = MappingProxyType(
    {
        SHEET_TAKEDOWN: f"{HEADER_ROW}:{HEADER_ROW}",
        SHEET_LOG: "1:1",
        SHEET_SNAPSHOTS: "1:1",
        SHEET_CODES: "1:1",
    }
)
"""Rows repeated at the top of every printed page, per sheet (the table header). Every sheet of
the template prints landscape, one page wide."""

INPUT_HEADER_FILL = "DDEBF7"
OUTPUT_HEADER_FILL = "EDEDED"
SUMMARY_FILL = "F2F2F2"

SUMMARY_TITLE: Texts = _t("Summary", "Resumen", "Resumo", "汇总")
SUMMARY_TOTAL: Texts = _t("Total", "Total", "Total", "合计")
SUMMARY_STAGE: Texts = _t("Last step", "Último paso", "Última etapa", "最近步骤")
SUMMARY_AT: Texts = _t("At (UTC)", "Fecha (UTC)", "Data (UTC)", "时间（UTC）")
SUMMARY_RESULTS: tuple[Result, ...] = (
    Result.OK,
    Result.SKIPPED,
    Result.WARNING,
    Result.BLOCKED,
    Result.FAILED,
)
"""Summary block: A1 title, B1:F1 results, G1 total, H1 stage, I1 time; values in row 2."""

HOW_TO: Texts = _t(
    "Fill the blue columns (one listing per row), then Check → Pull status → Plan → Execute. "
    "Grey columns are written by the tool.",
    "Completa las columnas azules (una publicación por fila) y luego Check → Pull status → Plan → "
    "Execute. Las columnas grises las escribe la herramienta.",
    "Preencha as colunas azuis (um anúncio por linha) e depois Check → Pull status → Plan → "
    "Execute. As colunas cinza são escritas pela ferramenta.",
    "请填写蓝色列（每行一个商品），然后依次点击 Check → Pull status → Plan → Execute。灰色列由工具填写。",
)


def summary_labels(lang: str) -> list[str]:
    """Row 1 of the summary block in ``lang``: title, the results, total, last step, time."""
    return [
        SUMMARY_TITLE[lang],
        *(r.value for r in SUMMARY_RESULTS),
        SUMMARY_TOTAL[lang],
        SUMMARY_STAGE[lang],
        SUMMARY_AT[lang],
    ]


def normalise_header(text: object) -> str:
    """A header as compared: NFKC, case-folded, inner whitespace collapsed, ``*``/``:`` dropped."""
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(text)).casefold().strip().rstrip("*:：").strip()
    return " ".join(folded.split())


@cache
def header_keys(sheet: str = SHEET_TAKEDOWN) -> Mapping[str, str]:
    """Normalised header text (any language, or the key itself) → column key, for ``sheet``."""
    columns = {SHEET_TAKEDOWN: TAKEDOWN_COLUMNS, SHEET_LOG: LOG_COLUMNS, SHEET_SNAPSHOTS: SNAPSHOT_COLUMNS}[
        sheet
    ]
    mapping: dict[str, str] = {}
    for column in columns:
        for text in (column.key, *column.headers.values()):
            mapping[normalise_header(text)] = column.key
    return MappingProxyType(mapping)


def column(key: str) -> Column:
    """The Takedown column with ``key``."""
    for candidate in TAKEDOWN_COLUMNS:
        if candidate.key == key:
            return candidate
    raise KeyError(key)
