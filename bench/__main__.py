"""make bench: the load benchmark (which also runs the micro benchmarks)."""

from bench.load import main

main()
