"""Writing a file so that readers see the old content or the new, never half of it.

The new bytes go to a temporary file in the same folder (same file system, so the rename is
atomic), are ``fsync``'d, and the temporary file is renamed over the target. Used for the
accounts and token files (mode 0600), the stored plan and the snapshots; the workbook itself
is saved by :mod:`mltakedown.book.xlsx`, which has its own rebuild-then-replace path.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

_BINARY = getattr(os, "O_BINARY", 0)
"""Windows: no newline translation at the C level (0 elsewhere)."""


def write_atomic(path: Path, data: bytes | str, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` (``str`` is written as UTF-8) in one step.

    ``mode`` (e.g. ``0o600`` for secrets) is the new file's permissions exactly; the temporary
    file is created with it, so the content is never readable by others, not even for a moment.
    Without it the file gets the usual permissions (0666 less the umask). The folder must exist.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY
    fd = os.open(tmp, flags, 0o666 if mode is None else mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            if mode is not None:
                os.chmod(tmp, mode)  # exactly ``mode``, whatever the umask took away
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable: without it, a power cut just after a token refresh can
    bring back the old file, whose refresh token the server has already spent."""
    if os.name != "posix":  # Windows has no directory handles to fsync; NTFS journals the rename
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
