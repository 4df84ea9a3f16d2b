"""How long a round of the annotation loop takes in the app's own machinery:
a throwaway workspace with the 20-sentence dataset of the loop's tests
(``tests/loop_support.py``, our own sentences), five sentences accepted, a
round started as the Review page's button starts it (``rounds.start_round``,
default settings, a background run process), waited for; then five more
accepted and a second, warm-started round. Prints one line per round: from
the start to the published order, and the run process's own time.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/loop_round.py [--rounds 2]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tagger.runs import control  # noqa: E402
from tagger.runs.rounds import start_round  # noqa: E402
from tagger.workspace import loop, status  # noqa: E402
from tagger.workspace.store import Workspace  # noqa: E402
from tests.loop_support import add_tiny  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    ws = Workspace(Path(tempfile.mkdtemp()) / "ws")
    did = add_tiny(ws, n=20)
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · {os.cpu_count()} CPUs · "
          f"load average {os.getloadavg()[0]:.1f}")
    for k in range(1, args.rounds + 1):
        for i in range(5 * (k - 1), 5 * k):
            status.accept(ws, did, i, "bench")
        t0 = time.time()
        r = control.wait(ws, start_round(ws, did, "bench"), timeout=900)
        row = loop.state(ws, did)["rounds"][-1]
        print(f"round {k}: {r['status']}, start to published {time.time() - t0:.1f} s, run process "
              f"{r['finished'] - r['started']:.1f} s, {len(control.history(ws, r['id']))} epochs, trained on "
              f"{row['reviewed']} reviewed sentences, held-out slice {row['heldout_size']}")


if __name__ == "__main__":
    main()
