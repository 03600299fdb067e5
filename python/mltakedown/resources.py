"""Where the project's non-code files are: ``templates/`` and ``xlsm/``.

Both folders live at the top of the repository (the project's layout). In a checkout or an
editable install they are found there; an installed wheel carries them inside the package as
``mltakedown/_templates`` and ``mltakedown/_xlsm`` (see ``setup.py``). ``MLTAKEDOWN_TEMPLATES``
points at an edited copy of the templates, so a team can change letters and messages without
touching the installation.
"""

from __future__ import annotations

import os
from pathlib import Path

TEMPLATES_ENV = "MLTAKEDOWN_TEMPLATES"
"""Environment variable naming a folder that replaces ``templates/``."""

_PACKAGE = Path(__file__).resolve().parent


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    # Neither exists: name the repository location, which is what a developer will look for.
    return candidates[0]


def templates_dir() -> Path:
    """The templates folder: ``$MLTAKEDOWN_TEMPLATES``, the repository's, or the installed copy."""
    override = os.environ.get(TEMPLATES_ENV, "").strip()
    if override:
        return Path(override)
    return _first_existing(_PACKAGE.parents[1] / "templates", _PACKAGE / "_templates")


def xlsm_sources_dir() -> Path:
    """The ``xlsm/`` folder: VBA sources, ribbon XML and the built ``mltakedown.xlsm``."""
    return _first_existing(_PACKAGE.parents[1] / "xlsm", _PACKAGE / "_xlsm")
