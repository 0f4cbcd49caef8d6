"""make bench: the load benchmark (which also runs the micro benchmarks), then fairness."""

from bench.fairness import main as fairness
from bench.load import main

main()
fairness()
