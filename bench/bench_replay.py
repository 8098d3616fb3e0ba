"""The replay on generated samples. Prints one `BENCH name=value` line per figure.

replay_quotes_per_s      quotes replayed per second: 10,000,000 quotes, 10,000 orders, every
                         policy (both passes, the gate, the figures), timed around replay() in
                         a fresh interpreter, one thread
replay_peak_mb           that process's peak resident memory
replay_peak_mb_1m        the same on 1,000,000 quotes: memory is bounded, it does not grow
                         with the file
replay_sample_*          the bundled sample (`replay-sample` defaults: 20,000 quotes, 500
                         orders, seed 7): what `wait` and `limit` save against `market` in
                         bps (spread cost and implementation shortfall), and fill rates
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"
TIMED = """
import json, resource, time
from pathlib import Path
from smart_routing.config.engine_config import load_config
from smart_routing.replay.accounting import Policy
from smart_routing.replay.run import Settings, replay
config = load_config(smart_routing_default=True)
settings = Settings(policies=tuple(Policy), horizon_s=300, ttl_s=60)
start = time.perf_counter()
result = replay(Path({quotes!r}), Path({orders!r}), settings, config)
elapsed = time.perf_counter() - start
summary = result.summary()
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"elapsed": elapsed, "peak_mb": peak_mb, "summary": summary}}))
"""


def python(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=FUNCTIONS, capture_output=True, text=True, check=True
    )
    return done.stdout


def sample(directory: Path, quotes: int, orders: int) -> None:
    python(
        "-m", "smart_routing", "replay-sample", "--out", str(directory),
        "--quotes", str(quotes), "--orders", str(orders),
    )  # fmt: skip


def replayed(directory: Path) -> dict:
    code = TIMED.format(quotes=str(directory / "QUOTES.csv"), orders=str(directory / "ORDERS.csv"))
    return json.loads(python("-c", code))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as scratch:
        root = Path(scratch)
        sample(root / "sample", 20_000, 500)
        bundled = replayed(root / "sample")["summary"]
        sample(root / "1m", 1_000_000, 10_000)
        small = replayed(root / "1m")
        (root / "1m" / "QUOTES.csv").unlink()
        sample(root / "10m", 10_000_000, 10_000)
        large = replayed(root / "10m")
    rows = large["summary"]["quotes"]["rows"]
    print(f"BENCH replay_quotes_per_s={rows / large['elapsed']:.0f}")
    print(f"BENCH replay_peak_mb={large['peak_mb']:.0f}")
    print(f"BENCH replay_peak_mb_1m={small['peak_mb']:.0f}")
    policies, saved = bundled["policies"], bundled["saved_vs_market_bps"]
    for policy in ("wait", "limit"):
        print(f"BENCH replay_sample_{policy}_spread_saved_bps={saved[policy]['spread_cost_bps']}")
        shortfall = saved[policy]["implementation_shortfall_bps"]
        print(f"BENCH replay_sample_{policy}_shortfall_saved_bps={shortfall}")
    for policy in ("market", "wait", "limit"):
        print(f"BENCH replay_sample_{policy}_fill_rate={policies[policy]['fill_rate']}")


if __name__ == "__main__":
    main()
