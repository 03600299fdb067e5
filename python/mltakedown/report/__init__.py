"""Evidence and reporting: takedown confirmations, appeal packs, the Report sheet, verify-record.

Input is a :class:`~mltakedown.report.model.RunRecord` (the engine fills it, or
:func:`~mltakedown.report.collect.collect_run` rebuilds it from a saved workbook and its journal).

* :mod:`.confirmation` — one confirmation per complaint reference (or reason), as a
  :class:`~mltakedown.report.document.Document`; :mod:`.pdf` renders it (CJK font from
  :mod:`.fonts`), :mod:`.editable` writes the same content as .xlsx; :mod:`.output` writes a run's
  documents to a folder.
* :mod:`.appeal` — appeal packs for listings Mercado Libre controls.
* :mod:`.sheet` — the ``Report`` sheet with counts, a native chart and the request budget.
* :mod:`.record` — :func:`~mltakedown.report.record.verify_record`.

Texts live in ``templates/reports/`` (:mod:`.texts`); users may edit them.
"""
