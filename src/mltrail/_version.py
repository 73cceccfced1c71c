"""The version of mltrail (``mltrail.__version__``), importable from any layer."""

__version__ = "0.1.0.dev0"
