"""Offline Check: every problem a sheet can have that needs no network.

:func:`analyse_rows` parses each row (identifier, action, reason, confirmation) and lists its
issues; :func:`check_rows` turns that into one :class:`Outcome` per row, in the workbook's
language. When a row has several problems the most severe code wins (errors before warnings
before remarks, blocking before not) and the others are named in the message.

Pure: no I/O, no clock, no network. Later stages (Pull, Plan) reuse :class:`CheckedRow`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from mltakedown.book.layout import FIRST_DATA_ROW, INPUT_KEYS, column
from mltakedown.book.ports import BookSettings, InputRow, Outcome, Result
from mltakedown.book.settings import account_sites
from mltakedown.codes import CATALOGUE, Code, describe, severity_rank, texts, ui_text
from mltakedown.engine.actions import Action, Reason, is_confirmed, parse_action, parse_reason
from mltakedown.ids import Identifier, has_control_chars, max_length, recognise


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding on a row: a code and the detail its message names."""

    code: Code
    detail: str = ""


@dataclass(slots=True)
class CheckedRow:
    """A row as Check understood it, with everything wrong or worth saying about it."""

    row: InputRow
    identifier: Identifier | None = None
    action: Action | None = None
    reason: Reason | None = None
    reason_text: str = ""
    confirmed: bool = False
    issues: list[Issue] = field(default_factory=list)

    @property
    def row_number(self) -> int:
        """The sheet row."""
        return self.row.row_number

    def ranked(self) -> list[Issue]:
        """Issues, most severe first (stable: equal severities keep the order they were found)."""
        return sorted(self.issues, key=lambda issue: severity_rank(issue.code), reverse=True)

    @property
    def verdict(self) -> Code:
        """The code that decides the row's result (``CHECKED`` when there is nothing to say)."""
        ranked = self.ranked()
        return ranked[0].code if ranked else Code.CHECKED

    @property
    def blocked(self) -> bool:
        """Whether any issue stops the row from being written."""
        return any(CATALOGUE[issue.code].blocks_write for issue in self.issues)


def analyse_rows(rows: Sequence[InputRow], settings: BookSettings, lang: str = "en") -> list[CheckedRow]:
    """Parse and check every row, then the checks across rows (duplicates, conflicts, gaps)."""
    sites = account_sites(settings)
    checked = [_analyse_row(row, sites, lang) for row in rows]
    _flag_gaps(checked, lang)
    _flag_duplicates(checked, lang)
    return checked


def check_rows(rows: Sequence[InputRow], settings: BookSettings, lang: str) -> list[Outcome]:
    """One outcome (result, code, message, remedy in ``lang``) per row. Output values untouched."""
    return [to_outcome(row, lang) for row in analyse_rows(rows, settings, lang)]


def to_outcome(checked: CheckedRow, lang: str) -> Outcome:
    """The outcome of one checked row: the winning code's texts, the other codes in the message."""
    ranked = checked.ranked() or [Issue(Code.CHECKED)]
    winner, others = ranked[0], ranked[1:]
    message, remedy = describe(winner.code, lang, winner.detail)
    if others:
        extra = "; ".join(_mention(issue, lang) for issue in others)
        message = f"{message}. {ui_text('also', lang)}: {extra}"
    return Outcome(
        row_number=checked.row_number,
        result=CATALOGUE[winner.code].result,
        code=winner.code.value,
        message=message,
        remedy=remedy,
    )


def summarise(outcomes: Sequence[Outcome]) -> dict[Result, int]:
    """Counts per result, every result present (zero when absent)."""
    counts = dict.fromkeys(Result, 0)
    for outcome in outcomes:
        if outcome.result is not None:
            counts[outcome.result] += 1
    return counts


def _mention(issue: Issue, lang: str) -> str:
    text = f"{issue.code.value} {texts(issue.code, lang).message}"
    return f"{text} ({issue.detail})" if issue.detail else text


def _analyse_row(row: InputRow, sites: Sequence[str], lang: str) -> CheckedRow:
    checked = CheckedRow(row)
    issues = checked.issues
    formulas = [key for key in INPUT_KEYS if key in row.formulas]
    if formulas:
        issues.append(Issue(Code.FORMULA_IN_INPUT, ", ".join(column(k).header(lang) for k in formulas)))
    action_text = "" if "action" in row.formulas else row.text("action")
    checked.action = parse_action(action_text)
    if checked.action is Action.IGNORE:
        # An ignored row is never acted on, so nothing else about it matters.
        checked.issues[:] = [Issue(Code.IGNORED)]
        return checked
    if "identifier" not in row.formulas:
        _check_identifier(checked, sites)
    if not action_text and "action" not in row.formulas:
        issues.append(Issue(Code.ACTION_MISSING))
    elif checked.action is None and "action" not in row.formulas:
        issues.append(Issue(Code.ACTION_UNKNOWN, action_text))
    _check_reason(checked)
    checked.confirmed = is_confirmed(row.values.get("confirm"))
    if checked.action is not None and checked.action.needs_confirm and not checked.confirmed:
        issues.append(Issue(Code.CONFIRM_MISSING, checked.action.value))
    return checked


def _check_identifier(checked: CheckedRow, sites: Sequence[str]) -> None:
    row, issues = checked.row, checked.issues
    raw = row.values.get("identifier")
    text = raw.strip() if isinstance(raw, str) else raw
    if text is None or text == "":
        issues.append(Issue(Code.IDENTIFIER_MISSING))
        return
    if isinstance(text, str):
        if len(text) > max_length(text):
            issues.append(Issue(Code.IDENTIFIER_TOO_LONG, f"{len(text)}"))
        if has_control_chars(text):
            issues.append(Issue(Code.IDENTIFIER_CONTROL_CHARS, repr(text)[:60]))
    id_type = "" if "id_type" in row.formulas else row.text("id_type")
    ident = recognise(text, id_type=id_type, account_sites=sites)
    checked.identifier = ident
    if ident is not None:
        issues.extend(Issue(w.code, w.detail) for w in ident.warnings)


def _check_reason(checked: CheckedRow) -> None:
    row = checked.row
    if "reason" in row.formulas:
        return
    checked.reason_text = row.text("reason")
    checked.reason = parse_reason(checked.reason_text)
    if not checked.reason_text:
        if checked.action is None or checked.action.needs_reason:
            checked.issues.append(Issue(Code.REASON_MISSING))
    elif checked.reason is None:
        checked.issues.append(Issue(Code.REASON_UNKNOWN, checked.reason_text))


def _rows(lang: str, numbers: str, *, many: bool = False) -> str:
    return ui_text("rows" if many else "row", lang).format(n=numbers)


def _flag_gaps(checked: Sequence[CheckedRow], lang: str) -> None:
    """Blank rows inside the table stop Excel's range expansion; say where they are."""
    previous = FIRST_DATA_ROW - 1
    for row in sorted(checked, key=lambda r: r.row_number):
        if row.row_number > previous + 1:
            first, last = previous + 1, row.row_number - 1
            detail = _rows(lang, str(first)) if first == last else _rows(lang, f"{first}–{last}", many=True)
            row.issues.append(Issue(Code.BLANK_ROW_ABOVE, detail))
        previous = row.row_number


def _flag_duplicates(checked: Sequence[CheckedRow], lang: str) -> None:
    """Same listing twice: a repeat of the same action is skipped, different actions block all."""
    groups: dict[tuple[str, str], list[CheckedRow]] = defaultdict(list)
    for row in checked:
        if row.identifier is not None and row.action not in (None, Action.IGNORE):
            groups[row.identifier.key].append(row)
    for group in groups.values():
        if len(group) < 2:
            continue
        actions = {row.action for row in group}
        if len(actions) > 1:
            for row in group:
                others = ", ".join(
                    f"{_rows(lang, str(other.row_number))} {other.action}"
                    for other in group
                    if other is not row
                )
                row.issues.append(Issue(Code.CONFLICTING_ACTIONS, others))
            continue
        # The row that runs is the first one that can: a blocked twin (no reason, say) must not
        # make a complete row "skip as a duplicate" while nothing is done at all.
        first = next((row for row in group if not row.blocked), group[0])
        for row in group:
            if row is not first:
                row.issues.append(Issue(Code.DUPLICATE_ROW, _rows(lang, str(first.row_number))))
