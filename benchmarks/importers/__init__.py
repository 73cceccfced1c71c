"""Side-by-side benchmark of importing an MLflow store (``python -m benchmarks.importers.run``)."""
