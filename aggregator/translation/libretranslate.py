"""A LibreTranslate-compatible service (self-hosted): `POST /translate` with the list form of
`q`, `source`, `target`, `format: text` and `api_key`; errors are `{"error": "..."}` with 400
(bad request, unsupported language, over the server's limits), 403 (banned, bad key), 429
(slow down) or 500 (translation error). Its version comes from `GET /spec` (`info.version`)
and a server's own character limit from `GET /frontend/settings` (`charLimit`).
"""

from __future__ import annotations

from dataclasses import replace

from aggregator.errors import TranslationError
from aggregator.settings import TranslationSettings
from aggregator.translation.engine import Engine, Limits
from aggregator.translation.http import Service
from aggregator.vocabulary import EngineKind

DEFAULT_URL = "http://127.0.0.1:5000"


def _error(data) -> str | None:
    return data.get("error") if isinstance(data, dict) else (str(data)[:200] or None)


class LibreTranslate(Engine):
    kind = EngineKind.LIBRETRANSLATE

    def __init__(self, options: TranslationSettings, user_agent: str):
        super().__init__(options.name or "LibreTranslate",
                         Limits(options.max_chars or 5000, options.max_texts or 20))
        self.key = options.api_key.get_secret_value() if options.api_key else None
        self.service = Service("LibreTranslate", options.url or DEFAULT_URL, user_agent,
                               secret=self.key)

    def translate(self, texts: list[str], source: str, target: str, timeout: float) -> list[str]:
        payload = {"q": texts, "source": source, "target": target, "format": "text"}
        if self.key:
            payload["api_key"] = self.key
        answer = self.service.call("POST", "/translate", timeout, payload)
        if answer.status != 200:
            raise self.service.refusal(answer, _error(answer.data))
        out = answer.data.get("translatedText") if isinstance(answer.data, dict) else None
        if not (isinstance(out, list) and len(out) == len(texts)
                and all(isinstance(t, str) for t in out)):
            raise TranslationError(f"LibreTranslate answered without a list of {len(texts)} "
                                   "translatedText strings")
        return out

    def ask_version(self, timeout: float) -> str | None:
        """`info.version` of the OpenAPI spec; the server's charLimit narrows our requests.
        A server without these endpoints (a compatible one) has no version, for good."""
        settings = self.service.call("GET", "/frontend/settings", timeout)
        limit = settings.data.get("charLimit") if isinstance(settings.data, dict) else None
        if isinstance(limit, int) and 0 < limit < self.limits.max_chars:
            self.limits = replace(self.limits, max_chars=limit)
        spec = self.service.call("GET", "/spec", timeout)
        info = spec.data.get("info") if isinstance(spec.data, dict) else None
        version = info.get("version") if isinstance(info, dict) else None
        return str(version)[:200] if version not in (None, "", "?") else None

    def close(self) -> None:
        self.service.close()
