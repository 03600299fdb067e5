"""Package layout that pyproject.toml alone cannot express.

The sources are under python/, but templates/ and xlsm/ stay at the top of the repository (the
project's layout) and ship inside the package as ``mltakedown._templates`` and ``mltakedown._xlsm``,
so an installed wheel finds its message texts, document templates and VBA sources.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages("python"), "mltakedown._templates", "mltakedown._xlsm"],
    package_dir={"": "python", "mltakedown._templates": "templates", "mltakedown._xlsm": "xlsm"},
)
