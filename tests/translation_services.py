"""Loopback stand-ins for the translation services: NOT translators, only their HTTP contracts.

Each answers a request the way the real service documents it, with a fake "translation"
(`[de] ` + the text) so tests can see which text went where; errors can be scripted.

- LibreTranslate, as its API spec in LibreTranslate/LibreTranslate `libretranslate/app.py`
  (Swagger docstrings of `/translate`, `/frontend/settings`, `/spec`) and
  docs.libretranslate.com: `POST /translate` with a JSON body {q: string | [strings], source,
  target, format: text|html, api_key}; 200 {translatedText: string | [strings]}; errors
  {"error": "..."} with 400 (missing parameter, "xx is not supported", "request (N) exceeds
  text limit (M)" for the server's char/batch limits), 403 ("Invalid API key"), 429
  ("Slowdown: ..."), 500 ("Cannot translate text: ..."); `GET /frontend/settings` gives
  {charLimit, ...}; `GET /spec` gives the OpenAPI document with info.version.
- DeepL, as developers.deepl.com documents `/v2/translate` (API reference, "Translating large
  volumes", "Error handling", "Understanding model types", "Authentication"): `POST
  /v2/translate` with JSON {text: [strings], target_lang, source_lang, model_type} and the
  header `Authorization: DeepL-Auth-Key KEY`; at most 50 texts and 128 KiB per request;
  200 {translations: [{detected_source_language, text, model_type_used when model_type was
  given}]}; errors carry {"message": ...}: 400, 403 (key), 413 (too large), 429 (too many
  requests), 456 (quota exceeded), 500.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LANGUAGES = {"uk", "ru", "en", "de"}


def fake(text: str, target: str) -> str:
    return f"[{target}] {text}"


@dataclass
class Scripted:
    """One scripted answer, used instead of a translation for the next request(s)."""

    status: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Service:
    """A ThreadingHTTPServer on 127.0.0.1 with the request log and a script of failures."""

    def __init__(self) -> None:
        self.requests: list[dict] = []  # {path, headers, body}
        self.script: list[Scripted] = []
        self.delay = 0.0
        self._lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                service._handle(self, None)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                service._handle(self, self.rfile.read(length))

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, status: int, body: dict, times: int = 1, delay: float = 0.0,
                  **headers: str) -> None:
        self.script.extend(Scripted(status, body, headers, delay) for _ in range(times))

    def posts(self) -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST"]

    def _handle(self, handler: BaseHTTPRequestHandler, raw: bytes | None) -> None:
        body = None
        if raw is not None:
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError:
                body = raw.decode("utf-8", errors="replace")
        with self._lock:
            self.requests.append({"method": handler.command, "path": handler.path,
                                  "headers": dict(handler.headers), "body": body, "raw": raw})
            scripted = self.script.pop(0) if self.script and raw is not None else None
        if scripted is not None:
            time.sleep(scripted.delay)
            status, answer, headers = scripted.status, scripted.body, scripted.headers
        else:
            time.sleep(self.delay)
            status, answer, headers = self.answer(handler, body, raw)
        data = json.dumps(answer, ensure_ascii=False).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                handler.send_header(name.replace("_", "-"), value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def answer(self, handler, body, raw) -> tuple[int, dict, dict]:
        raise NotImplementedError


class LibreTranslateStandIn(Service):
    """The LibreTranslate contract; `api_keys` set means a key is checked, `char_limit` and
    `batch_limit` are the server's --char-limit and --batch-limit (-1: none)."""

    def __init__(self, api_keys: set[str] | None = None, char_limit: int = -1,
                 batch_limit: int = -1, version: str = "1.6.4"):
        super().__init__()
        self.api_keys, self.char_limit, self.batch_limit = api_keys, char_limit, batch_limit
        self.version = version

    def answer(self, handler, body, raw):
        if handler.command == "GET" and handler.path == "/spec":
            return 200, {"swagger": "2.0", "info": {"title": "LibreTranslate",
                                                    "version": self.version}}, {}
        if handler.command == "GET" and handler.path == "/frontend/settings":
            return 200, {"charLimit": self.char_limit, "frontendTimeout": 500,
                         "apiKeys": bool(self.api_keys), "keyRequired": bool(self.api_keys),
                         "suggestions": False, "supportedFilesFormat": []}, {}
        if handler.command != "POST" or handler.path != "/translate":
            return 404, {"error": "Not Found"}, {}
        if not isinstance(body, dict):
            return 400, {"error": "Invalid JSON format"}, {}
        if self.api_keys is not None and body.get("api_key") not in self.api_keys:
            return 403, {"error": "Invalid API key"}, {}
        q, source, target = body.get("q"), body.get("source"), body.get("target")
        for name, value in (("q", q), ("source", source), ("target", target)):
            if not value:
                return 400, {"error": f"Invalid request: missing {name} parameter"}, {}
        batch = isinstance(q, list)
        if batch and self.batch_limit != -1 and len(q) > self.batch_limit:
            return 400, {"error": f"Invalid request: request ({len(q)}) exceeds text limit "
                                  f"({self.batch_limit})"}, {}
        chars = sum(len(t) for t in q) if batch else len(q)
        if self.char_limit != -1 and chars > self.char_limit:
            return 400, {"error": f"Invalid request: request ({chars}) exceeds text limit "
                                  f"({self.char_limit})"}, {}
        for code in (source, target):
            if code not in LANGUAGES:
                return 400, {"error": f"{code} is not supported"}, {}
        if body.get("format", "text") not in ("text", "html"):
            return 400, {"error": f"{body['format']} format is not supported"}, {}
        out = [fake(t, target) for t in q] if batch else fake(q, target)
        return 200, {"translatedText": out}, {}


class DeepLStandIn(Service):
    """The DeepL /v2/translate contract for one authentication key."""

    def __init__(self, key: str):
        super().__init__()
        self.key = key

    def answer(self, handler, body, raw):
        if handler.command != "POST" or handler.path != "/v2/translate":
            return 404, {"message": "Not found"}, {}
        if handler.headers.get("Authorization") != f"DeepL-Auth-Key {self.key}":
            return 403, {"message": "Forbidden"}, {}
        if len(raw or b"") > 128 * 1024:
            return 413, {"message": "Request Entity Too Large"}, {}
        if not isinstance(body, dict) or not body.get("target_lang") or not body.get("text"):
            return 400, {"message": "Bad request", "detail": "Parameter 'text' or "
                                                             "'target_lang' not specified."}, {}
        texts = body["text"]
        if not isinstance(texts, list) or len(texts) > 50:
            return 400, {"message": "Bad request", "detail": "Too many texts."}, {}
        target = body["target_lang"]
        if target == "EN":
            return 400, {"message": "Value for 'target_lang' not supported.", "detail":
                         "'EN' is deprecated, please use 'EN-GB' or 'EN-US' instead."}, {}
        source = body.get("source_lang") or "UK"
        items = []
        for text in texts:
            item = {"detected_source_language": source, "text": fake(text, target.lower())}
            if body.get("model_type"):
                item["model_type_used"] = body["model_type"].removeprefix("prefer_")
            items.append(item)
        return 200, {"translations": items}, {}
