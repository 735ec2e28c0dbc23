"""DeepL's API: `POST /v2/translate` with a JSON body `{text: [...], source_lang,
target_lang[, model_type]}` and the header `Authorization: DeepL-Auth-Key KEY` (never in the
URL); the answer is `{translations: [{detected_source_language, text[, model_type_used]}]}`.
Up to 50 texts and 128 KiB per request. Errors: 400, 403 (key), 404, 413 (too large), 429
(too many requests), 456 (quota exceeded), 5xx; the body carries `message` (and `detail`).
Keys ending in `:fx` belong to the Free API at api-free.deepl.com.
"""

from __future__ import annotations

from aggregator.errors import TranslationError
from aggregator.settings import TranslationSettings
from aggregator.translation.engine import Engine, Limits
from aggregator.translation.http import Service
from aggregator.vocabulary import EngineKind

FREE_URL, PRO_URL = "https://api-free.deepl.com", "https://api.deepl.com"
# Target languages DeepL wants with a variant ("EN" alone is deprecated as a target).
TARGET_VARIANTS = {"en": "EN-GB", "pt": "PT-PT"}


def _error(data) -> str | None:
    if not isinstance(data, dict):
        return str(data)[:200] or None
    return " ".join(str(data[k]) for k in ("message", "detail") if data.get(k)) or None


class DeepL(Engine):
    kind = EngineKind.DEEPL

    def __init__(self, options: TranslationSettings, user_agent: str):
        super().__init__(options.name or "DeepL",
                         Limits(options.max_chars or 30000, min(options.max_texts or 50, 50)))
        key = options.api_key.get_secret_value() if options.api_key else ""
        url = options.url or (FREE_URL if key.endswith(":fx") else PRO_URL)
        self.model_type = options.model_type
        self.model_used: str | None = None
        self.service = Service("DeepL", url, user_agent, secret=key,
                               headers={"Authorization": f"DeepL-Auth-Key {key}"})

    def translate(self, texts: list[str], source: str, target: str, timeout: float) -> list[str]:
        payload = {"text": texts, "source_lang": source.upper(),
                   "target_lang": TARGET_VARIANTS.get(target, target.upper())}
        if self.model_type:
            payload["model_type"] = self.model_type
        answer = self.service.call("POST", "/v2/translate", timeout, payload)
        if answer.status != 200:
            raise self.service.refusal(answer, _error(answer.data))
        items = answer.data.get("translations") if isinstance(answer.data, dict) else None
        if not (isinstance(items, list) and len(items) == len(texts) and all(
                isinstance(i, dict) and isinstance(i.get("text"), str) for i in items)):
            raise TranslationError(f"DeepL answered without {len(texts)} translations")
        self.model_used = next((str(i["model_type_used"]) for i in items
                                if i.get("model_type_used")), self.model_used)
        return [i["text"] for i in items]

    def version(self, timeout: float) -> str | None:
        """The model type DeepL said it used (it reports one when `model_type` is set)."""
        return self.model_used

    def close(self) -> None:
        self.service.close()
