"""Memory of a process tree from /proc: RSS and PSS of a root and all its descendants; and the
CPU time of a server running beside it (PostgreSQL), which the daemon's own figures leave out."""

from __future__ import annotations

import os
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


def tree_memory(root: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes of `root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)  # fields[1] is the parent pid
        rss[pid] = int(fields[21]) * PAGE_SIZE  # resident pages
    total_rss = total_pss = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        total_rss += rss.get(pid, 0)
        total_pss += _pss(pid)
        todo.extend(children.get(pid, ()))
    return total_rss, total_pss


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
