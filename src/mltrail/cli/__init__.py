"""The ``mltrail`` command line: a thin shell over the library."""

from mltrail.cli._main import cli, main

__all__ = ["cli", "main"]
