"""Benchmarks of mltrail (not part of the installed package)."""
