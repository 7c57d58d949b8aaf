"""Benchmarks: ``python -m bench.<name>`` from the project root prints ``FIGURE <name> <value> <unit>`` lines."""
