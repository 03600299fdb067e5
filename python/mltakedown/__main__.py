"""``python -m mltakedown``: the same as the ``mltakedown`` command."""

from mltakedown.cli import main

main()
