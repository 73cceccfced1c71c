"""Side-by-side benchmark of autologging (``python -m benchmarks.autolog.run``)."""
