"""make bench: the load benchmark side by side with bare echo bots (it also runs the micro
benchmarks), the CPU-per-update ratio to the aiohttp echo over alternated rounds, then
fairness, stalls and the backlog."""

from bench.backlog import main as backlog
from bench.cpu_ratio import main as cpu_ratio
from bench.fairness import main as fairness
from bench.load import main
from bench.stalls import main as stalls

main()
cpu_ratio()
fairness()
stalls()
backlog()
