"""Side-by-side tracking-server workloads: a real server process per run, one module each."""
