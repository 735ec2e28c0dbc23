"""Machine translation after storage: one small engine interface (`engine.py`), one module per
engine (LibreTranslate-compatible HTTP, DeepL's API, any command reading stdin), the HTTP they
share (`http.py`) and the worker that takes jobs off the queue (`worker.py`).

No engine is downloaded or installed here: an operator points the settings at one it runs.
"""

from __future__ import annotations

from aggregator.settings import TranslationSettings
from aggregator.translation.engine import Engine


def make_engine(options: TranslationSettings, user_agent: str) -> Engine:
    """The configured engine; HTTP engines open no connection until the first job."""
    if options.engine == "deepl":
        from aggregator.translation.deepl import DeepL

        return DeepL(options, user_agent)
    if options.engine == "command":
        from aggregator.translation.command import Command

        return Command(options)
    from aggregator.translation.libretranslate import LibreTranslate

    return LibreTranslate(options, user_agent)
