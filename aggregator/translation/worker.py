"""The translation worker: finds what lacks a translation, takes due jobs off the queue with a
lease, and records every outcome on the job's row. It runs in threads of its own (engines
block on HTTP or a child process), so ingestion never waits for it, in the daemon or alone
(`aggregator translations run`).

A failed attempt is retried with back-off up to `max_attempts`; a refusal for good (a
language pair the engine lacks) fails at once. When the engine itself is missing, down,
refuses the key or rate-limits us, the whole worker waits (Retry-After, else back-off) and
the job keeps its attempts: nothing fails for want of an engine, and the reason stays on the
job's row and in `aggregator status` until the engine is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from aggregator import policy
from aggregator.db import translations as queue
from aggregator.db.engine import Database
from aggregator.errors import EngineUnavailable, TranslationError
from aggregator.records import TranslationJob
from aggregator.settings import Settings
from aggregator.translation import make_engine
from aggregator.translation.engine import Engine, translate_article
from aggregator.vocabulary import TranslationAttempt

log = logging.getLogger(__name__)
MAX_WAIT = 6 * 3600.0


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def _now() -> datetime:
    return datetime.now(timezone.utc)


class TranslationWorker:
    """Translates due jobs, `concurrency` at a time, until stopped (or, once, drained)."""

    def __init__(self, settings: Settings, db: Database | None = None,
                 engine: Engine | None = None):
        self.options = settings.translation
        self.db = db or Database(settings.effective_database_url)
        self.engine = engine or make_engine(self.options, settings.user_agent)
        self.lease = timedelta(seconds=self.options.job_timeout + self.options.timeout + 60)
        self.outcomes: Counter = Counter()
        self.waiting_until: datetime | None = None  # the engine is unavailable until then
        self._waits = 0
        self._next_scan = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Run in a background thread (the daemon's way); `stop` ends it."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, args=(self._stop,),
                                        name="translations", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Finish the jobs in flight (each bounded by its request timeout); a job still
        running after `timeout` comes back when its lease runs out."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self, stop: threading.Event, once: bool = False) -> Counter:
        """Translate until `stop` is set, or with `once` until nothing is due (or the engine
        is unavailable); count the outcomes."""
        log.info("translation worker: %s into %s", self.engine.name,
                 ", ".join(self.options.targets))
        helpers = [threading.Thread(target=self._loop, args=(stop, once), daemon=True)
                   for _ in range(self.options.concurrency - 1)]
        for thread in helpers:
            thread.start()
        try:
            self._loop(stop, once)
        finally:
            for thread in helpers:
                thread.join()
            self.engine.close()
        return Counter(self.outcomes)

    def _loop(self, stop: threading.Event, once: bool) -> None:
        while not stop.is_set():
            self._scan()
            job = self._claim()
            if job is None:
                if once:
                    return
                stop.wait(self.options.poll_interval)
                continue
            outcome = self._process(job)
            with self._lock:
                self.outcomes[outcome] += 1
            if once and outcome == TranslationAttempt.WAITING:
                return

    def _db(self, step, *args):
        with self.db.session() as session:
            return step(session, *args)

    def _scan(self) -> None:
        """Queue new articles and revisions, at most once per poll interval."""
        with self._lock:
            if time.monotonic() < self._next_scan:
                return
            self._next_scan = time.monotonic() + self.options.poll_interval
        now = _now()
        since = now - timedelta(seconds=self.options.max_age) if self.options.max_age else None
        try:
            queued = self._db(queue.enqueue_missing, self.options.targets, self.options.sources,
                              since, now)
        except Exception:  # noqa: BLE001 - a database hiccup must not end the worker
            log.exception("cannot queue translations; trying again later")
            return
        if queued:
            log.info("queued %d translations", queued)

    def _claim(self) -> TranslationJob | None:
        if self.waiting_until is not None and _now() < self.waiting_until:
            return None
        try:
            jobs = self._db(queue.claim, 1, _now(), self.lease)
        except Exception:  # noqa: BLE001 - a database hiccup must not end the worker
            log.exception("cannot read the translation queue; trying again later")
            return None
        return jobs[0] if jobs else None

    def _process(self, job: TranslationJob) -> TranslationAttempt:
        """One attempt; never raises, since one job must not end the worker."""
        try:
            return self._attempt(job)
        except Exception:  # noqa: BLE001 - the job comes back when its lease runs out
            log.exception("translation outcome not recorded",
                          extra={"source": job.source, "url": f"article {job.article_id}"})
            return TranslationAttempt.UNRECORDED

    def _attempt(self, job: TranslationJob) -> TranslationAttempt:
        extra = {"source": job.source, "url": f"article {job.article_id}"}
        what = (f"article {job.article_id} revision {job.revision} "
                f"{job.source_language}->{job.language}")
        try:
            result = translate_article(self.engine, job.title, job.text, job.source_language,
                                       job.language, self.options.timeout,
                                       self.options.job_timeout)
        except EngineUnavailable as exc:
            return self._wait(job, str(exc), exc.retry_after, extra)
        except TranslationError as exc:
            reason, permanent = str(exc), exc.permanent
        except Exception as exc:  # noqa: BLE001 - a bug in one job must not stop the queue
            log.exception("translation crashed", extra=extra)
            reason, permanent = f"unexpected {type(exc).__name__}: {_first_line(exc)}", False
        else:
            self._db(queue.record_translation, job.id, result)
            self._waits = 0
            log.info("translated %s with %s (%d characters, %d ms)", what, result.engine_name,
                     result.characters, result.duration_ms, extra=extra)
            return TranslationAttempt.DONE
        retry = not permanent and job.attempt < self.options.max_attempts
        delay = policy.backoff(job.attempt, self.options.retry_delay, MAX_WAIT)
        self._db(queue.record_failure, job.id, reason,
                 _now() + timedelta(seconds=delay) if retry else None)
        log.warning("translation of %s, attempt %d, failed%s: %s", what, job.attempt,
                    "" if retry else " for good", reason, extra=extra)
        return TranslationAttempt.RETRY if retry else TranslationAttempt.FAILED

    def _wait(self, job: TranslationJob, reason: str, retry_after: float | None,
              extra: dict) -> TranslationAttempt:
        """The engine is not there: every job waits, this one without using an attempt."""
        with self._lock:
            self._waits += 1
            delay = policy.backoff(self._waits, self.options.retry_delay, MAX_WAIT,
                                   min(retry_after or 0.0, MAX_WAIT))
            self.waiting_until = _now() + timedelta(seconds=max(delay, self.options.poll_interval))
        self._db(queue.record_failure, job.id, reason, self.waiting_until, True)
        log.warning("translation engine unavailable, waiting until %s: %s",
                    f"{self.waiting_until:%H:%M:%S}Z", reason, extra=extra)
        return TranslationAttempt.WAITING
