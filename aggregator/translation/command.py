"""Any program that reads text on stdin and writes its translation on stdout (Argos Translate's
CLI with the operator's installed models, Apertium, a wrapper script): the texts of a request
go in one per line; when as many lines come back, each is the translation of its own, else the
texts are run through the program one at a time. A run that outlives `translation.timeout` is
killed with its whole process group.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from aggregator.errors import EngineUnavailable, TranslationError
from aggregator.settings import TranslationSettings
from aggregator.translation.engine import Engine, Limits
from aggregator.vocabulary import EngineKind


def _first_line(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace").strip()
    return (text.splitlines() or [""])[0][:300]


class Command(Engine):
    kind = EngineKind.COMMAND

    def __init__(self, options: TranslationSettings):
        self.argv = list(options.command or ())
        self.version_argv = list(options.version_command or ())
        super().__init__(options.name or Path(self.argv[0]).name,
                         Limits(options.max_chars or 5000, options.max_texts or 50))

    def translate(self, texts: list[str], source: str, target: str, timeout: float) -> list[str]:
        argv = [a.replace("{source}", source).replace("{target}", target) for a in self.argv]
        out = self.run(argv, "\n".join(texts), timeout)
        lines = out.split("\n")
        if len(lines) == len(texts):
            return lines
        if len(texts) == 1:
            return [" ".join(line.strip() for line in lines if line.strip())]
        return [self.translate([text], source, target, timeout)[0] for text in texts]

    def run(self, argv: list[str], text: str, timeout: float) -> str:
        """One run of the program; its stdout without the final newline."""
        program = argv[0]
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True)
        except FileNotFoundError as exc:
            raise EngineUnavailable(f"command not found: {program} (translation.command): "
                                    "install it or correct the path") from exc
        except PermissionError as exc:
            raise EngineUnavailable(f"{program} is not executable (translation.command)") from exc
        try:
            out, err = proc.communicate(text.encode("utf-8"), timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise TranslationError(f"{self.name} gave no answer within {timeout:g}s "
                                   "(translation.timeout): killed") from exc
        if proc.returncode in (126, 127):  # a shell saying it cannot find or run the program
            raise EngineUnavailable(f"{self.name} cannot run (exit {proc.returncode}): "
                                    f"{_first_line(err)}")
        if proc.returncode != 0:
            raise TranslationError(f"{self.name} exited with status {proc.returncode}: "
                                   f"{_first_line(err) or 'no message'}")
        try:
            decoded = out.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TranslationError(f"{self.name} wrote output that is not UTF-8") from exc
        if text.strip() and not decoded.strip():
            raise TranslationError(f"{self.name} wrote nothing: {_first_line(err) or 'no message'}")
        return decoded.removesuffix("\n")

    def ask_version(self, timeout: float) -> str | None:
        if not self.version_argv:
            return None
        try:
            return _first_line(self.run(self.version_argv, "", timeout).encode()) or None
        except TranslationError:
            return None
