"""Side-by-side tracking-core workloads, one module each (see benchmarks/run.py)."""
