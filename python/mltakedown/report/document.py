"""A neutral layout model of a document, rendered to PDF and to an editable workbook alike.

Builders (:mod:`.confirmation`, :mod:`.appeal`) decide *what* a document says; renderers
(:mod:`.pdf`, :mod:`.editable`) decide how it looks. Because both renderers read the same
:class:`Document`, the PDF and the editable copy cannot drift apart in content.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Field:
    """One labelled value (``Item ID: MLM123…``)."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One listing (or other record) inside a section: a heading and its fields.

    Entries of one section share the same field labels, so the editable copy can lay them out as
    a table with one column per label.
    """

    heading: str
    fields: tuple[Field, ...]


@dataclass(slots=True)
class Section:
    """A titled part of a document: paragraphs, then labelled facts, then entries."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    facts: list[Field] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    empty_text: str = ""
    """Shown instead of the entries when there are none (so "none" is said, not implied)."""
    alert: bool = False
    """Highlight the section (rows that were not done)."""


@dataclass(slots=True)
class Document:
    """A whole document: title, sections, and the identifiers that tie it to its run."""

    title: str
    subtitle: str
    language: str
    run_id: str
    doc_id: str
    """Stable name of the document inside the run (used for file names)."""
    sections: list[Section] = field(default_factory=list)
    footer: str = ""

    def texts(self) -> Iterator[str]:
        """Every string the document shows (for font-coverage checks and searches)."""
        yield from (self.title, self.subtitle, self.footer)
        for section in self.sections:
            yield section.title
            if not section.entries:
                yield section.empty_text
            yield from section.paragraphs
            for fact in section.facts:
                yield from (fact.label, fact.value)
            for entry in section.entries:
                yield entry.heading
                for item in entry.fields:
                    yield from (item.label, item.value)
