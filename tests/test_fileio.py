"""Atomic file writes: whole content or none, the requested mode, no temporary file left behind."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from mltakedown.fileio import write_atomic

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")


def test_replaces_the_content_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old", encoding="utf-8")
    write_atomic(target, "nuevo ✓")
    write_atomic(target, b"\x00bytes")
    assert target.read_bytes() == b"\x00bytes"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


@posix_only
def test_a_secret_gets_exactly_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o277)
    try:
        write_atomic(tmp_path / "tokens.json", "{}", mode=0o600)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "tokens.json").stat().st_mode) == 0o600


@posix_only
def test_without_a_mode_the_umask_decides_as_for_any_new_file(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "snapshot.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "snapshot.json").stat().st_mode) == 0o644


def test_a_failed_write_keeps_the_old_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "accounts.json"
    target.write_text("old", encoding="utf-8")

    def broken(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["accounts.json"]
