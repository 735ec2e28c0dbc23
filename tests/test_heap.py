"""The daemon's and the workers' garbage-collector settings (aggregator/heap.py)."""

from __future__ import annotations

import subprocess
import sys

# In a fresh interpreter, so that the test session's own collector is left as it is.
SETTLED = """
import gc, weakref
from aggregator import heap

kept = [[n] for n in range(1000)]  # start-up's objects
heap.settle()
print(gc.get_freeze_count() >= len(kept), gc.get_threshold() == heap.THRESHOLDS)

class Node:
    pass

freed = []
for _ in range(50_000):  # cyclic garbage made after start-up
    a, b = Node(), Node()
    a.peer, b.peer = b, a
    weakref.finalize(a, freed.append, 1)
    del a, b
print(len(freed))
"""


def test_settled_process_freezes_start_up_and_still_frees_later_cycles():
    done = subprocess.run([sys.executable, "-c", SETTLED], capture_output=True, text=True,
                          timeout=60, check=True)
    flags, freed = done.stdout.splitlines()
    assert flags == "True True"
    assert int(freed) > 45_000  # only the last few thousand still wait in the young generation
