"""Pre-write snapshots: the state of an item before this tool first wrote to it.

Before the *first* write to an item, ever (not once per run: a later run that writes the same
item again must not overwrite the evidence of how it looked before the tool touched it), the
full item JSON and its key fields are saved to
``X.mltakedown/snapshots/<run_id>/<item_id>.json`` with ``<item_id>.json.sha256`` beside it
(``sha256sum`` format), and a :class:`~mltakedown.book.ports.SnapshotRow` goes to the
Snapshots sheet. Restore reads the key fields back (quantities, price, listing type, ad status).

Files are written atomically (temporary file, ``fsync``, rename), so a snapshot on disk is
always complete.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from mltakedown.book.ports import SnapshotRow
from mltakedown.fileio import write_atomic

SNAPSHOT_DIR: Final = "snapshots"
EVIDENCE_DIR: Final = "evidence"
"""Snapshots Plan takes of listings it will never write (appeal evidence). Kept apart from
``snapshots/`` on purpose: Restore must only ever see the state from before the tool's own first
write, never an older evidence copy."""
SCHEMA: Final = 1
CELL_LIMIT: Final = 32_000
"""Excel refuses cells over 32,767 characters; the sheet gets a cut copy, the file keeps it all."""

_KEY_FIELDS: Final = (
    "id",
    "site_id",
    "seller_id",
    "title",
    "status",
    "sub_status",
    "tags",
    "price",
    "currency_id",
    "available_quantity",
    "listing_type_id",
    "permalink",
    "catalog_listing",
    "user_product_id",
    "stop_time",
    "last_updated",
)


class SnapshotError(RuntimeError):
    """A snapshot is missing, unreadable or does not match its checksum."""


def key_fields(
    item: Mapping[str, Any], *, ad_group_id: str | None = None, ad_status: str | None = None
) -> dict[str, Any]:
    """The fields Restore and a reader of the evidence need, out of the full item JSON."""
    key = {name: item.get(name) for name in _KEY_FIELDS}
    variations = item.get("variations") or []
    key["variations"] = [
        {"id": v.get("id"), "available_quantity": v.get("available_quantity"), "price": v.get("price")}
        for v in variations
        if isinstance(v, Mapping)
    ]
    shipping = item.get("shipping")
    key["logistic_type"] = shipping.get("logistic_type") if isinstance(shipping, Mapping) else None
    key["ad_group_id"] = ad_group_id
    key["ad_status"] = ad_status
    return key


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One snapshot as stored."""

    item_id: str
    run_id: str
    taken_at: dt.datetime
    path: Path
    sha256: str
    key: dict[str, Any]
    item: dict[str, Any]

    def variation_quantity(self, variation_id: int) -> int | None:
        """The variation's stock when the snapshot was taken."""
        for variation in self.key.get("variations", []):
            if variation.get("id") == variation_id:
                quantity = variation.get("available_quantity")
                return quantity if isinstance(quantity, int) else None
        return None


def load_snapshot(path: Path) -> Snapshot:
    """Read a snapshot file and check it against its ``.sha256`` file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SnapshotError(f"snapshot {path.name} cannot be read: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    sha_path = path.with_name(path.name + ".sha256")
    try:
        recorded = sha_path.read_text(encoding="ascii").split()[0]
    except (OSError, IndexError) as exc:
        raise SnapshotError(f"snapshot {path.name} has no checksum file") from exc
    if recorded != digest:
        raise SnapshotError(f"snapshot {path.name} was changed after it was taken (checksum mismatch)")
    doc = json.loads(data)
    return Snapshot(
        item_id=doc["item_id"],
        run_id=doc["run_id"],
        taken_at=dt.datetime.fromisoformat(doc["taken_at"]),
        path=path,
        sha256=digest,
        key=doc.get("key", {}),
        item=doc.get("item", {}),
    )


class SnapshotStore:
    """The snapshot folder of one workbook, seen from one run."""

    def __init__(
        self, folder: Path, run_id: str, *, workbook_dir: Path | None = None, area: str = SNAPSHOT_DIR
    ) -> None:
        self.root = folder / area
        self.run_id = run_id
        self._workbook_dir = workbook_dir or folder.parent
        self._index = self._scan()

    def _scan(self) -> dict[str, Path]:
        # Run ids start with a UTC timestamp, so sorting run folders by name puts the oldest first
        # and the first snapshot found for an item is the one taken before the tool first wrote it.
        index: dict[str, Path] = {}
        if not self.root.is_dir():
            return index
        for run_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for file in sorted(run_dir.glob("*.json")):
                index.setdefault(file.stem, file)
        return index

    def find(self, item_id: str) -> Path | None:
        """The path of the item's first snapshot, if the tool ever took one."""
        return self._index.get(item_id)

    def load(self, item_id: str) -> Snapshot | None:
        """The item's first snapshot, checked; ``None`` when there is none."""
        path = self.find(item_id)
        return None if path is None else load_snapshot(path)

    def ensure(
        self,
        item: Mapping[str, Any],
        *,
        variation_id: int | None = None,
        ad_group_id: str | None = None,
        ad_status: str | None = None,
        row_number: int | None = None,
    ) -> SnapshotRow | None:
        """Save the item's snapshot unless one exists already.

        Returns the row for the Snapshots sheet when a new snapshot was taken, else ``None``.
        """
        item_id = str(item.get("id") or "")
        if not item_id:
            raise SnapshotError("cannot snapshot an item without an id")
        if item_id in self._index:
            return None
        taken_at = dt.datetime.now(dt.UTC)
        key = key_fields(item, ad_group_id=ad_group_id, ad_status=ad_status)
        doc = {
            "schema": SCHEMA,
            "item_id": item_id,
            "run_id": self.run_id,
            "taken_at": taken_at.isoformat(),
            "row_number": row_number,
            "variation_id": variation_id,
            "key": key,
            "item": dict(item),
        }
        data = json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True, default=str).encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        run_dir = self.root / self.run_id
        run_dir.mkdir(parents=True, exist_ok=True)
        path = run_dir / f"{item_id}.json"
        # The checksum first, the snapshot last: the snapshot file appearing is the commit point.
        # A run killed in between leaves only a checksum, which no scan indexes, so the next run
        # takes the snapshot again (no write was sent: the intent comes after). The other order
        # would leave a snapshot without checksum that later runs use and Restore then refuses.
        write_atomic(path.with_name(path.name + ".sha256"), f"{digest}  {path.name}\n".encode("ascii"))
        write_atomic(path, data)
        self._index[item_id] = path
        return self._sheet_row(item, key, self.run_id, taken_at, digest, path, variation_id)

    def runs(self) -> dict[str, list[str]]:
        """The item ids of the stored (first) snapshots, by the run that took them."""
        by_run: dict[str, list[str]] = {}
        for item_id, path in self._index.items():
            by_run.setdefault(path.parent.name, []).append(item_id)
        return by_run

    def sheet_row(self, item_id: str) -> SnapshotRow | None:
        """The Snapshots-sheet row of a stored snapshot (checked), ``None`` when there is none.

        For the snapshots of a run killed before it wrote the workbook back: the files are on
        disk, and the sheet, the record people share, must show them too.
        """
        snapshot = self.load(item_id)
        if snapshot is None:
            return None
        doc = json.loads(snapshot.path.read_bytes())
        variation_id = doc.get("variation_id")
        return self._sheet_row(
            snapshot.item,
            snapshot.key,
            snapshot.run_id,
            snapshot.taken_at,
            snapshot.sha256,
            snapshot.path,
            variation_id if isinstance(variation_id, int) else None,
        )

    def _sheet_row(
        self,
        item: Mapping[str, Any],
        key: Mapping[str, Any],
        run_id: str,
        taken_at: dt.datetime,
        digest: str,
        path: Path,
        variation_id: int | None,
    ) -> SnapshotRow:
        item_id = str(item.get("id") or path.stem)
        raw = json.dumps(dict(item), ensure_ascii=False, sort_keys=True, default=str)
        if len(raw) > CELL_LIMIT:
            raw = raw[:CELL_LIMIT] + " …(cut; the full JSON is in the snapshot file)"
        sub_status = item.get("sub_status") or []
        price = item.get("price")
        quantity = item.get("available_quantity")
        if variation_id is not None:
            for variation in key.get("variations") or []:
                if variation.get("id") == variation_id:
                    quantity = variation.get("available_quantity")
        return SnapshotRow(
            run_id=run_id,
            taken_at=taken_at,
            item_id=item_id,
            variation_id=variation_id,
            site=str(item.get("site_id") or item_id[:3]),
            status=str(item.get("status") or ""),
            sub_status=", ".join(str(s) for s in sub_status)
            if isinstance(sub_status, list)
            else str(sub_status),
            available_quantity=quantity if isinstance(quantity, int) else None,
            price=float(price) if isinstance(price, int | float) else None,
            title=str(item.get("title") or ""),
            sha256=digest,
            file=_relative(path, self._workbook_dir),
            raw_json=raw,
        )


def _relative(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()
