"""Side-by-side benchmarks of the model registry."""
