"""Per-row outcomes of the write stages, computed from the journal.

:func:`row_outcome` reads a row's writes back from the journal state (so a re-run reports rows
an earlier run did exactly as that run would); :func:`blocked_outcome` is the outcome of a row
that sends nothing. Times go out as naive UTC and naive site-local time (Excel cells hold no zone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo

from mltakedown import codes
from mltakedown.book.ports import CellValue, Outcome, Result
from mltakedown.codes import Code, spec
from mltakedown.engine.journal import WriteState
from mltakedown.engine.writes import WriteJob

SITE_ZONES: Final[dict[str, str]] = {
    "MLM": "America/Mexico_City",
    "MLB": "America/Sao_Paulo",
    "MLA": "America/Argentina/Buenos_Aires",
    "MLC": "America/Santiago",
    "MCO": "America/Bogota",
    "MLU": "America/Montevideo",
    "MPE": "America/Lima",
    "MEC": "America/Guayaquil",
    "MLV": "America/Caracas",
    "MBO": "America/La_Paz",
    "MPY": "America/Asuncion",
    "MCR": "America/Costa_Rica",
    "MPA": "America/Panama",
    "MRD": "America/Santo_Domingo",
    "MGT": "America/Guatemala",
    "MHN": "America/Tegucigalpa",
    "MNI": "America/Managua",
    "MSV": "America/El_Salvador",
}
"""Each site's local time zone (the Done-at-local column)."""


def local_times(at: dt.datetime, site: str | None) -> tuple[dt.datetime, dt.datetime]:
    """``at`` as naive UTC and as naive local time of the site (Excel cells hold no zone)."""
    utc = at.astimezone(dt.UTC)
    zone = SITE_ZONES.get((site or "")[:3].upper())
    local = utc.astimezone(ZoneInfo(zone)) if zone else utc
    return utc.replace(tzinfo=None), local.replace(tzinfo=None)


@dataclass(slots=True)
class _RowVerdict:
    code: Code
    detail: str = ""
    api_error: str = ""
    request_id: str = ""
    status_after: str = ""
    at: dt.datetime | None = None
    new_item_id: str = ""


def _verdict(job: WriteJob, state: WriteState | None, held: str | None) -> _RowVerdict:
    if state is None:
        return _RowVerdict(Code.NOT_SENT, held or "the run stopped before this row")
    outcome = state.outcome
    if outcome is None:
        return _RowVerdict(Code.NETWORK, "sent but not confirmed (the run stopped); run again to reconcile")
    at = dt.datetime.fromisoformat(str(outcome["at"]))
    request_id = str(outcome.get("request_id") or "")
    if not outcome.get("ok"):
        # A failed write may still have changed the listing (the close of a DELETE whose delete
        # failed): the read-back after the failure says what it shows now.
        seen_after = str((state.verify or {}).get("status_seen") or "")
        return _RowVerdict(
            Code(str(outcome.get("code") or Code.SERVER_ERROR.value)),
            detail=str(outcome.get("message") or ""),
            api_error=str(outcome.get("api_error") or ""),
            request_id=request_id,
            status_after=seen_after,
            at=at,
        )
    verify = state.verify
    seen = str((verify or {}).get("status_seen") or outcome.get("status_after") or "")
    new_item_id = str(outcome.get("new_item_id") or "")
    if verify is not None and not verify.get("ok"):
        expected = job.write.expected_status or job.write.body
        detail = f"expected {expected}, Mercado Libre shows {seen or 'nothing'}"
        if verify.get("variation_quantity_seen") is not None:
            detail += f" (variation stock {verify['variation_quantity_seen']})"
        return _RowVerdict(Code.VERIFY_MISMATCH, detail, request_id=request_id, status_after=seen, at=at)
    code = Code(str(outcome.get("code") or job.success_code.value))
    detail = str(outcome.get("message") or "") if code is Code.RECONCILED else ""
    if verify is None:
        detail = "not read back yet; the next run verifies it"
    if new_item_id:
        detail = f"{new_item_id} (was {job.write.item_id})"
    return _RowVerdict(code, detail, request_id=request_id, status_after=seen, at=at, new_item_id=new_item_id)


def row_outcome(
    row_number: int,
    jobs: Sequence[WriteJob],
    states: Mapping[str, WriteState],
    *,
    lang: str,
    site: str | None,
    status_before: str | None,
    not_sent: Mapping[str, str] | None = None,
) -> Outcome:
    """The outcome of a row whose writes went (or should have gone) through the runner.

    The row shows its first failing write if any, else its first write (the listing's); the
    status after is the listing's as read back.
    """
    held = not_sent or {}
    verdicts = [_verdict(job, states.get(job.write_id), held.get(job.write_id)) for job in jobs]
    failing = [v for v in verdicts if spec(v.code).result is Result.FAILED]
    main = failing[0] if failing else verdicts[0]
    item_verdicts = [v for job, v in zip(jobs, verdicts, strict=True) if job.is_item_write]
    status_after = (item_verdicts[0] if item_verdicts else main).status_after
    message, remedy = codes.describe_or_raw(main.code, lang, main.detail)
    values: dict[str, CellValue] = {
        "status_before": status_before or "",
        "status_after": status_after,
        "api_error": main.api_error,
        "request_id": main.request_id or next((v.request_id for v in verdicts if v.request_id), ""),
        "new_item_id": next((v.new_item_id for v in verdicts if v.new_item_id), ""),
    }
    at = main.at or next((v.at for v in verdicts if v.at), None)
    if at is not None:
        values["done_at_utc"], values["done_at_local"] = local_times(at, site)
    else:
        values["done_at_utc"] = values["done_at_local"] = None
    return Outcome(
        row_number=row_number,
        result=spec(main.code).result,
        code=main.code.value,
        message=message,
        remedy=remedy,
        values=values,
    )


def blocked_outcome(
    row_number: int, code: Code, *, lang: str, detail: str = "", result: Result | None = None
) -> Outcome:
    """The outcome of a row that sends nothing (blocked, skipped, or refused at the stage level)."""
    message, remedy = codes.describe_or_raw(code, lang, detail)
    return Outcome(
        row_number=row_number,
        result=result or spec(code).result,
        code=code.value,
        message=message,
        remedy=remedy,
        values={
            "api_error": "",
            "request_id": "",
            "status_after": "",
            "done_at_utc": None,
            "done_at_local": None,
        },
    )
