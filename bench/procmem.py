"""Memory of a process tree from /proc: RSS and PSS of a root and all its descendants, and
their peaks sampled on a thread; and the CPU time of a server running beside it (PostgreSQL),
which the daemon's own figures leave out."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

PAGE_SIZE = 4096


def _pss(pid: int) -> int:
    """Proportional set size: shared pages split between their users, so sums do not inflate."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def process_rss(pid: int) -> int:
    """Resident bytes of one process (0 once it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    except OSError:
        return 0


def _children(pid: int) -> list[int] | None:
    """The children of `pid`, from its threads' /proc/PID/task/TID/children (None where the
    kernel does not have those files)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []  # gone
    found = []
    for tid in tasks:
        try:
            found.extend(map(int, Path(f"/proc/{pid}/task/{tid}/children").read_text().split()))
        except FileNotFoundError:
            if os.path.isdir(f"/proc/{pid}/task/{tid}"):
                return None  # no such file on this kernel
        except OSError:
            continue
    return found


def _all_children() -> dict[int, list[int]]:
    """Every process's children, from a walk over all of /proc (slow: kernels without the
    children files)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree_memory(root: int, pss: bool = True) -> tuple[int, int]:
    """(RSS, PSS) in bytes of `root` and all its descendants, from /proc. PSS (0 without
    `pss`) makes the kernel walk every page table of the tree: a sampler asks for it seldom."""
    total_rss = total_pss = 0
    walked: dict[int, list[int]] | None = None
    todo = [root]
    while todo:
        pid = todo.pop()
        total_rss += process_rss(pid)
        total_pss += _pss(pid) if pss else 0
        children = _children(pid)
        if children is None:
            walked = _all_children() if walked is None else walked
            children = walked.get(pid, [])
        todo.extend(children)
    return total_rss, total_pss


class PeakSampler(threading.Thread):
    """Peaks of a tree's memory: the root's RSS and the tree's every 100 ms, the tree's PSS
    every second (the kernel walks every page table for it, in this process's CPU time, which
    an ingest on the same cores would feel). `root` is asked each time: a browser relaunches
    under a new pid, and a tree not yet started (None) is skipped."""

    def __init__(self, root: Callable[[], int | None], every: float = 0.1, pss_every: int = 10):
        super().__init__(daemon=True)
        self.root, self.every, self.pss_every = root, every, pss_every
        self.done = threading.Event()
        self.root_rss = self.tree_rss = self.tree_pss = 0

    def run(self) -> None:
        ticks = 0
        while not self.done.wait(self.every):
            if not (pid := self.root()):
                continue
            rss, pss = tree_memory(pid, pss=ticks % self.pss_every == 0)
            ticks += 1
            self.root_rss = max(self.root_rss, process_rss(pid))
            self.tree_rss, self.tree_pss = max(self.tree_rss, rss), max(self.tree_pss, pss)

    def __enter__(self) -> PeakSampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.join()


def cpu_seconds(command: str) -> float:
    """User and system CPU seconds of every process named `command`, with the children each
    has reaped (a server's finished connection processes), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, rest = (entry / "stat").read_text().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, ValueError):
            continue
        if name == command:
            fields = rest.split()  # fields[11:15]: utime, stime, cutime, cstime
            total += sum(int(f) for f in fields[11:15])
    return total / tick
