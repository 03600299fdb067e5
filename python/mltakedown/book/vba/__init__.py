"""A VBA project writer of our own: MS-OVBA compression, the MS-CFB container, the project streams.

Real Excel cannot run on Linux, so what we write is checked structurally against the VBA project of
xlwings' ``quickstart_standalone.xlsm`` (which Excel accepts) and read back with independent readers
(olefile, oletools, LibreOffice). ``ms-ovba`` from PyPI is not used: its compressor corrupts inputs
over about 657 bytes and its compound-file writer breaks past one FAT sector.
"""

from __future__ import annotations

from mltakedown.book.vba.cfb import Storage, storage_from_paths, write_compound_file
from mltakedown.book.vba.compression import IncompressibleChunkError, compress, decompress
from mltakedown.book.vba.project import ModuleKind, VbaModule, build_project_streams, build_vba_project

__all__ = [
    "IncompressibleChunkError",
    "ModuleKind",
    "Storage",
    "VbaModule",
    "build_project_streams",
    "build_vba_project",
    "compress",
    "decompress",
    "storage_from_paths",
    "write_compound_file",
]
