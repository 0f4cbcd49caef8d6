"""make bench: the load benchmark side by side with bare echo bots (it also runs the micro
benchmarks), then fairness, stalls and the backlog."""

from bench.backlog import main as backlog
from bench.fairness import main as fairness
from bench.load import main
from bench.stalls import main as stalls

main()
fairness()
stalls()
backlog()
