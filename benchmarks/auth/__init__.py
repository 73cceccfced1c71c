"""Authentication overhead benchmarks (issue 18): ``benchmarks/auth/run.py``."""
