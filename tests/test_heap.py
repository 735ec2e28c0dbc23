"""The daemon's and the workers' garbage-collector settings (aggregator/heap.py)."""

from __future__ import annotations

import subprocess
import sys

# In a fresh interpreter, so that the test session's own collector is left as it is.
SETTLED = """
import gc, weakref
from aggregator import heap

class Node:
    pass

def cycles(count, freed):
    for _ in range(count):
        a, b = Node(), Node()
        a.peer, b.peer = b, a
        weakref.finalize(a, freed.append, 1)

kept = [[n] for n in range(1000)]  # start-up's objects
gc.disable()
early = []
cycles(100, early)  # start-up's garbage: freed before the freeze, not frozen for good
heap.settle()
gc.enable()
tracked = {id(o) for o in gc.get_objects()}
print(len(early), any(id(k) in tracked for k in kept), gc.get_threshold() == heap.THRESHOLDS)
later = []
cycles(50_000, later)  # cyclic garbage made after start-up
print(len(later))
"""


def test_settled_process_freezes_start_up_and_still_frees_later_cycles():
    done = subprocess.run([sys.executable, "-c", SETTLED], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    start_up, later = done.stdout.splitlines()
    assert start_up == "100 False True"  # garbage freed, the living frozen, threshold set
    assert int(later) > 45_000  # only the last few thousand still wait in the young generation
