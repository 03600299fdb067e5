"""mltakedown: take Mercado Libre listings down in bulk, safely, from an Excel workbook.

The package is organised by job:

- :mod:`mltakedown.meli`     the Mercado Libre API client (auth, transport, rate limit, retries, models)
- :mod:`mltakedown.sandbox`  an emulator of the API subset we use, for tests and rehearsals
- :mod:`mltakedown.ids`      identifier recognition (pure)
- :mod:`mltakedown.codes`    the stable result/error code catalogue
- :mod:`mltakedown.book`     the workbook layout and its adapters (openpyxl files, live Excel, .xlsm builder)
- :mod:`mltakedown.engine`   check, pull, plan, execute, verify, restore
- :mod:`mltakedown.report`   confirmation documents, appeal packs, the Report sheet, record integrity
- :mod:`mltakedown.excel`    the functions the workbook's ribbon calls
- :mod:`mltakedown.cli`      the command line
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
