"""A process pool for CPU-bound stages, so extraction and shingling never block the reactor.

Our own small pool, not a ProcessPoolExecutor: an executor cannot stop one task, and a hostile
page (10 MB of tiny paragraphs: minutes of CPU) must cost one attempt, not a worker for hours.
Each worker is a spawned process (never forked from a running reactor) behind a pipe, driven by
one thread of ours that keeps the next page waiting in the pipe (no idle gap between pages, as
an executor's call queue gives) and waits at most `timeout` seconds for each answer, counted from
when the worker could start on that page; past that the process is killed, the page comes back
as a failed ExtractionResult, and a fresh worker takes its place and the page queued behind.
A worker that crashes or raises costs its page the same way. Workers are recycled after
`recycle_after` pages (the `extract_recycle_pages` setting), which also bounds what a long-lived
process may accumulate (the executor's own `max_tasks_per_child` deadlocks on Python 3.11-3.13
once a backlog is queued: CPython gh-115634).

A worker dies with its parent: the kernel kills it when the thread that started it ends (Linux
PR_SET_PDEATHSIG), a watch on its parent pid covers other systems, and an idle worker sees its
pipe close. Workers ignore SIGINT and SIGTERM, which a terminal or systemd sends to the whole
group: the daemon still needs them to drain its crawls, and closes them itself.
"""

from __future__ import annotations

import asyncio
import ctypes
import dataclasses
import logging
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import traceback
from collections import deque
from concurrent.futures import Future
from multiprocessing.connection import Connection
from typing import Any

from aggregator import heap, language, metrics
from aggregator.dedup import fingerprint
from aggregator.extract import extract_article
from aggregator.records import ExtractionResult, ExtractRules

log = logging.getLogger(__name__)
PIPELINE = 2  # pages sent to a worker at once: the next one waits in its pipe, no idle gap
SPAWN_AHEAD = 50  # start a recycled worker's successor this many pages early (imports take ~2 s)
START_TIMEOUT = 120.0  # seconds a new worker may take to import before it counts as broken
_PR_SET_PDEATHSIG = 1
_READY = "ready"
_STOP = None


def extract_and_fingerprint(
    body: bytes, url: str, content_type: str | None, language: str | None,
    rules: ExtractRules | None = None,
) -> ExtractionResult:
    """Extraction plus the MinHash fingerprint: both CPU-bound, both in the worker process."""
    started = time.perf_counter()
    result = extract_article(body, url, content_type, language, rules)
    extracted = time.perf_counter()
    if result.draft is None:
        return dataclasses.replace(result, extract_seconds=extracted - started)
    draft = dataclasses.replace(result.draft, fingerprint=fingerprint(result.draft.text))
    return ExtractionResult(draft, extract_seconds=extracted - started,
                            dedup_seconds=time.perf_counter() - extracted)


def _die_with_parent(parent: int) -> None:
    """Exit as soon as `parent` is gone, whoever adopts us (pid 1, a subreaper)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl: the watch below still works, a second later

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    if os.getppid() != parent:  # the parent died before the watch was set up
        os._exit(1)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _serve(conn: Connection, parent: int) -> None:
    """A worker's life: pages in, results out, until told to stop or the parent goes."""
    _die_with_parent(parent)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    language.preload()
    heap.settle()
    conn.send(_READY)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is _STOP:
            return
        try:
            reply: tuple[str, Any] = ("ok", extract_and_fingerprint(*task))
        except Exception:  # noqa: BLE001 - any failure of one page is that page's outcome
            reply = ("error", traceback.format_exc())
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return


class _Worker:
    """One worker process and our end of its pipe."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, theirs = context.Pipe(duplex=True)
        self.process = context.Process(target=_serve, args=(theirs, os.getpid()),
                                       name="aggregator-extract", daemon=True)
        self.process.start()
        theirs.close()
        self.ready = False
        self.sent = 0

    def wait_ready(self) -> bool:
        if not self.ready:
            try:
                self.ready = self.conn.poll(START_TIMEOUT) and self.conn.recv() == _READY
            except (EOFError, OSError):
                self.ready = False
        return self.ready

    def send(self, args: tuple) -> None:
        self.sent += 1
        try:
            self.conn.send(args)
        except OSError:
            pass  # it died: receive() says so

    def receive(self, timeout: float | None, url: str) -> ExtractionResult | None:
        """The oldest page's result, a failed result if the worker died or raised, or None
        if nothing came within `timeout` seconds."""
        try:
            if not self.conn.poll(timeout):
                return None
            status, value = self.conn.recv()
        except (EOFError, OSError):
            self.kill()
            return ExtractionResult(None, failure=f"extraction worker died "
                                                  f"(exit code {self.process.exitcode})")
        if status == "ok":
            return value
        log.error("extraction raised: %s", value.rstrip(), extra={"url": url})
        return ExtractionResult(None, failure=f"extraction error: {value.splitlines()[-1]}")

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()

    def stop(self) -> None:
        """Ask an idle worker to exit (one still importing is simply killed)."""
        if self.ready:
            try:
                self.conn.send(_STOP)
            except OSError:
                pass
            self.process.join(5)
        if self.process.is_alive():
            self.kill()
        self.conn.close()


@dataclasses.dataclass
class _Task:
    args: tuple
    future: Future


class _Slot:
    """One worker, the pages sent to it but not answered yet (oldest first), and its
    successor while it is being recycled. Used by one driver thread only."""

    def __init__(self, timeout: float | None, recycle_after: int | None):
        self.timeout = timeout
        self.recycle_after = recycle_after or sys.maxsize
        # when the successor starts (never early for a life shorter than the head start)
        self.spawn_at = (self.recycle_after - SPAWN_AHEAD if self.recycle_after > SPAWN_AHEAD
                         else sys.maxsize)
        self.worker: _Worker | None = None
        self.successor: _Worker | None = None
        self.sent: deque[_Task] = deque()
        self.since = 0.0  # when the oldest page sent reached the front of the worker's queue

    @property
    def wants_work(self) -> bool:
        return len(self.sent) < PIPELINE and (self.worker is None
                                              or self.worker.sent < self.recycle_after)

    def send(self, task: _Task) -> None:
        try:
            if self.worker is None:
                self.worker, self.successor = self.successor or _Worker(), None
            if self.worker.sent >= self.spawn_at and self.successor is None:
                self.successor = _Worker()  # its imports overlap the old one's last pages
        except OSError as exc:  # no process to be had (limits, memory): this page fails
            task.future.set_result(ExtractionResult(None, failure=f"no extraction worker: {exc}"))
            return
        if not self.worker.wait_ready():
            self.worker.kill()
            task.future.set_result(ExtractionResult(None, failure=(
                f"extraction worker did not start (exit code {self.worker.process.exitcode})")))
            self.worker = None
            return
        if not self.sent:
            self.since = time.perf_counter()
        self.worker.send(task.args)
        self.sent.append(task)

    def settle_oldest(self) -> None:
        """Wait (at most what is left of its time) for the oldest page; past its time, kill
        the worker and send the pages queued behind it to a fresh one."""
        task = self.sent[0]
        left = None if self.timeout is None else self.since + self.timeout - time.perf_counter()
        result = self.worker.receive(None if left is None else max(left, 0.0), task.args[1])
        if result is None:
            self.worker.kill()
            result = ExtractionResult(None, failure=f"extraction took longer than "
                                                    f"{self.timeout:g}s: stopped",
                                      extract_seconds=time.perf_counter() - self.since)
        self.sent.popleft()
        self.since = time.perf_counter()
        task.future.set_result(result)
        if not self.worker.alive:  # killed or died: the pages behind it were never started
            behind, self.worker = list(self.sent), None
            self.sent.clear()
            for waiting in behind:
                self.send(waiting)
        elif self.worker.sent >= self.recycle_after and not self.sent:
            self.worker.stop()
            self.worker = None

    def close(self) -> None:
        for worker in (self.worker, self.successor):
            if worker is not None:
                worker.stop()


class ExtractionPool:
    """`workers` processes; `timeout` seconds (None: no limit) per page; each process replaced
    by a fresh one after `recycle_after` pages (None: never)."""

    def __init__(self, workers: int, timeout: float | None = None,
                 recycle_after: int | None = None):
        self._timeout = timeout
        self._recycle_after = recycle_after
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._closed = False
        self._threads = [threading.Thread(target=self._drive, name=f"extract-{n}", daemon=True)
                         for n in range(workers)]
        for thread in self._threads:
            thread.start()

    def _drive(self) -> None:
        """One worker's driver thread: keeps its worker fed (blocking for work only when the
        worker has none) and settles its pages in order, until told to stop."""
        slot = _Slot(self._timeout, self._recycle_after)
        stopping = False
        try:
            while not (stopping and not slot.sent):
                if not stopping and slot.wants_work:
                    try:
                        task = self._tasks.get(block=not slot.sent)
                    except queue.Empty:
                        task = None
                    else:
                        stopping = task is _STOP
                    if task is not None and task.future.set_running_or_notify_cancel():
                        slot.send(task)
                        continue
                if slot.sent:
                    slot.settle_oldest()
        finally:
            slot.close()

    def submit(
        self, body: bytes, url: str, content_type: str | None, language: str | None,
        rules: ExtractRules | None = None,
    ) -> Future:
        """Queue one page; the future's result is an ExtractionResult, never an exception
        from the page (a failed result instead)."""
        if self._closed:
            raise RuntimeError("the extraction pool is closed")
        future: Future = Future()
        self._tasks.put(_Task((body, url, content_type, language, rules), future))
        return future

    async def extract(
        self, body: bytes, url: str, content_type: str | None, language: str | None,
        rules: ExtractRules | None = None,
    ) -> ExtractionResult:
        result = await asyncio.wrap_future(self.submit(body, url, content_type, language, rules))
        metrics.STAGE_SECONDS.labels("extract").observe(result.extract_seconds)
        if result.draft is not None:
            metrics.STAGE_SECONDS.labels("dedup").observe(result.dedup_seconds)
        return result

    def close(self) -> None:
        """Cancel the pages still queued, let those sent finish (each bounded by the time
        limit), and stop the workers."""
        self._closed = True
        while True:
            try:
                task = self._tasks.get_nowait()
            except queue.Empty:
                break
            if task is not None:
                task.future.cancel()
        for _ in self._threads:
            self._tasks.put(_STOP)
        for thread in self._threads:
            thread.join()
