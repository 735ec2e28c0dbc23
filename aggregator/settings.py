"""Daemon-wide settings: `config/aggregator.yaml`, overridden by `AGGREGATOR_*` variables.

Declared once here, with default and help; everything else receives a `Settings` object.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import stat
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from aggregator.errors import ConfigError
from aggregator.yamlfile import YamlProblem, load_file

CONFIG_ENV = "AGGREGATOR_CONFIG"
SETTINGS_FILE = "aggregator.yaml"
DEFAULT_USER_AGENT = (
    "UkrNewsAggregator/0.1 (+https://github.com/ukr-news-aggregator; news archive bot)"
)


class LogSettings(BaseModel):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Lowest level written to the log."
    )
    format: Literal["text", "json"] = Field(
        "text", description="`text` for a terminal, `json` (one object per line) for journald."
    )

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class ScreenshotSettings(BaseModel):
    """The capture worker: browser, pool size, image format and how long a page may take."""

    enabled: bool = Field(
        True, description="Queue a capture for every new article and run the capture worker "
        "in the daemon (sources can still opt out with `screenshots: false`)."
    )
    browser_path: Path | None = Field(
        None, description="Chromium executable; empty means /usr/bin/chromium when present, "
        "else the browser `playwright install chromium` downloaded."
    )
    pages: int = Field(2, ge=1, le=32, description="Pages captured at once (the pool size).")
    viewport_width: int = Field(1280, ge=320, le=4096, description="Viewport width in CSS pixels.")
    viewport_height: int = Field(900, ge=240, le=4096, description="Viewport height in CSS pixels.")
    format: Literal["png", "webp"] = Field("png", description="Image format of stored captures.")
    full_page: bool = Field(
        False, description="Capture the whole page, not only the viewport (a source may override)."
    )
    full_page_max_height: int = Field(
        12000, ge=240, le=50000, description="Full-page captures are cut at this height in pixels."
    )
    thumbnail_width: int = Field(
        320, ge=64, le=1280, description="Width of the thumbnail in pixels."
    )
    timeout: float = Field(
        30.0, gt=0, description="Seconds the page may take to load before the attempt fails."
    )
    settle_timeout: float = Field(
        8.0, ge=0, description="Seconds to wait for the load event and network quiet after the "
        "document arrived; a page still busy then is captured as it is."
    )
    max_attempts: int = Field(3, ge=1, le=20, description="Attempts before a capture is failed.")
    retry_delay: float = Field(
        60.0, ge=0, description="Seconds before the first retry; doubles with each attempt."
    )
    poll_interval: float = Field(
        5.0, gt=0, description="Seconds between looks at the queue when it is empty."
    )


class TranslationSettings(BaseModel):
    """Machine translation after storage (docs/configuration.md, "Translation")."""

    engine: Literal["libretranslate", "deepl", "command"] = Field(
        "libretranslate", description="`libretranslate` (a LibreTranslate-compatible HTTP "
        "service), `deepl` (DeepL's API) or `command` (a program reading stdin)."
    )
    targets: list[str] = Field(
        default_factory=list, description="Languages to translate into (ISO 639-1); empty "
        "(the default) switches translation off."
    )
    sources: list[str] | None = Field(
        None, description="Only articles of these sources; empty means every source."
    )
    url: str | None = Field(
        None, description="The service's base URL. LibreTranslate: default "
        "http://127.0.0.1:5000; DeepL: default https://api-free.deepl.com for keys ending in "
        "`:fx`, else https://api.deepl.com."
    )
    api_key: SecretStr | None = Field(
        None, description="LibreTranslate's `api_key`, or DeepL's authentication key "
        "(required for DeepL). Never logged or shown; prefer AGGREGATOR_TRANSLATION__API_KEY."
    )
    command: list[str] | None = Field(
        None, description="For `command`: the program and its arguments (a list, or one string "
        "split like a shell would); `{source}` and `{target}` are replaced by language codes."
    )
    version_command: list[str] | None = Field(
        None, description="For `command`: a program whose first line of output names the "
        "engine's version (e.g. `argos-translate --version`); stored with each translation."
    )
    name: str | None = Field(
        None, description="How the machine-translation note names the engine; default "
        "LibreTranslate, DeepL, or the command's program name."
    )
    model_type: str | None = Field(
        None, description="DeepL's `model_type` (`quality_optimized`, `latency_optimized`); "
        "the model type DeepL reports using is stored with each translation."
    )
    timeout: float = Field(60.0, gt=0, description="Seconds one request (or one run of the "
                           "command) may take.")
    job_timeout: float = Field(600.0, gt=0, description="Seconds one article may take, all its "
                               "requests together.")
    max_chars: int | None = Field(
        None, ge=100, description="Characters in one request, all texts together; default "
        "5000 for LibreTranslate and the command, 30000 for DeepL (its 128 KiB body limit)."
    )
    max_texts: int | None = Field(
        None, ge=1, le=1000, description="Texts (paragraphs) in one request; default 20 for "
        "LibreTranslate, 50 for DeepL (its limit) and the command."
    )
    concurrency: int = Field(1, ge=1, le=16, description="Articles translated at once.")
    max_attempts: int = Field(5, ge=1, le=50, description="Attempts before a job is failed.")
    retry_delay: float = Field(
        30.0, ge=0, description="Back-off base in seconds: after the n-th failure a job (or, "
        "while it is unavailable, the engine) waits base x 2^n, at most 6 hours; the "
        "engine's Retry-After wins."
    )
    poll_interval: float = Field(
        10.0, gt=0, description="Seconds between looks for new articles and due jobs."
    )
    max_age: float = Field(
        2 * 86400, ge=0, description="Only revisions fetched within this many seconds are "
        "queued (so switching translation on does not queue the whole archive); 0 = all."
    )

    @field_validator("targets")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        for code in value:
            if not re.fullmatch(r"[a-z]{2}", code):
                raise ValueError(f"{code!r} is not an ISO 639-1 language code")
        return list(dict.fromkeys(value))

    @field_validator("command", "version_command", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return shlex.split(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _engine_needs(self) -> TranslationSettings:
        if not self.targets:
            return self
        if self.engine == "deepl" and not self.api_key:
            raise ValueError("engine deepl needs api_key (AGGREGATOR_TRANSLATION__API_KEY)")
        if self.engine == "command" and not self.command:
            raise ValueError("engine command needs command: the program to run")
        if self.url is not None and not re.match(r"https?://[^/\s]+", self.url):
            raise ValueError(f"url {self.url!r} is not an absolute http(s) URL")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.targets)

class NodeSettings(BaseModel):
    """This process as one node of a cluster on one PostgreSQL (docs/scale-out.md)."""

    name: str | None = Field(
        None, max_length=100, description="The node's name in leases, crawls, metrics and "
        "`aggregator nodes`; empty means <host name>-<pid>. Unique among running nodes."
    )
    lease_ttl: float = Field(
        60.0, ge=1, description="Seconds a host lease lasts unless its holder renews it: how "
        "long the sources of a killed node wait before another node takes them over."
    )
    heartbeat: float = Field(
        10.0, gt=0, description="Seconds between a node's heartbeats; each renews its leases, "
        "claims free hosts up to its fair share and hands back any surplus."
    )

    @model_validator(mode="after")
    def _renew_in_time(self) -> NodeSettings:
        if self.heartbeat * 2 > self.lease_ttl:
            raise ValueError("node.heartbeat must be at most half of node.lease_ttl, so a "
                             "live node renews its leases before they run out")
        return self


class WebSettings(BaseModel):
    """The desk (`aggregator web`): where it listens and the token it asks for."""

    host: str = Field(
        "127.0.0.1", description="Address `aggregator web` listens on; any address other than "
        "loopback needs `web.token`."
    )
    port: int = Field(8791, ge=1, le=65535, description="Port of `aggregator web`.")
    token: str | None = Field(
        None, min_length=16, description="Access token of the web view and API (at least 16 "
        "characters), sent as `Authorization: Bearer TOKEN` or as the basic-auth password; "
        "empty means no token (loopback only)."
    )


class Settings(BaseSettings):
    """Validated settings; `load_settings` is the only constructor callers use."""

    model_config = SettingsConfigDict(
        env_prefix="AGGREGATOR_", env_nested_delimiter="__", extra="forbid"
    )

    config_dir: Path = Field(
        Path("config"), description="Directory holding aggregator.yaml and sources/."
    )
    data_dir: Path = Field(
        Path("data"),
        description="Where the SQLite database, archives and screenshots live "
        "(relative paths are taken from the working directory).",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL; empty means SQLite at <data_dir>/aggregator.db. "
        "PostgreSQL: postgresql+psycopg://user@host/dbname.",
    )
    user_agent: str = Field(DEFAULT_USER_AGENT, description="User-Agent header of every request.")
    concurrency: int = Field(
        16, ge=1, le=512, description="Requests in flight, all hosts together.")
    per_host_concurrency: int = Field(
        2, ge=1, le=64, description="Requests in flight to one host (shared by its sources)."
    )
    download_delay: float = Field(
        1.0, ge=0, description="Seconds between requests to one host (AutoThrottle's floor)."
    )
    autothrottle: bool = Field(True, description="Adapt the delay to each host's latency.")
    obey_robots: bool = Field(True, description="Honour robots.txt.")
    robots_ttl: float = Field(
        86400.0, gt=0, description="Seconds a host's robots.txt is trusted before it is asked "
        "for again."
    )
    download_timeout: float = Field(
        30.0, gt=0, description="Seconds before a request is abandoned.")
    max_body_size: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest response body accepted, in bytes."
    )
    max_feed_size: int = Field(
        5 * 1024 * 1024, ge=1024, description="Largest feed body accepted, in bytes (feeds are "
        "parsed whole in memory, so this bounds the parser's memory)."
    )
    max_feed_entries: int = Field(
        1000, ge=1, description="Entries taken from one feed, in document order; the rest are "
        "skipped with a warning."
    )
    db_retry_max_delay: float = Field(
        30.0, gt=0, description="Longest wait, in seconds, between retries of a database write "
        "that failed because the database is down, restarting or locked."
    )
    store_buffer: int = Field(
        200, ge=1, description="Articles held in memory waiting for the database during an "
        "outage; when full, downloads pause until the database is back."
    )
    retries: int = Field(2, ge=0, le=10, description="Retries of a failed request (5xx, timeouts).")
    max_entry_attempts: int = Field(
        5, ge=1, description="Page fetches tried for one feed entry before it is marked failed."
    )
    extract_workers: int = Field(
        0, ge=0, le=64, description="Processes for extraction; 0 means one per CPU core."
    )
    extract_timeout: float = Field(
        10.0, gt=0, description="Seconds one page's extraction may take; past that its worker "
        "is killed and replaced, and the page counts as a failed attempt."
    )
    extract_recycle_pages: int = Field(
        10000, ge=1, description="Pages an extraction process handles before a fresh one "
        "takes its place (bounds what a long-lived process may accumulate; a start costs "
        "about a second of CPU)."
    )
    warc_max_bytes: int = Field(
        256 * 1024 * 1024, ge=1024 * 1024, description="Size at which a WARC file is closed "
        "and the next one started."
    )
    max_concurrent_crawls: int = Field(
        4, ge=1, le=256, description="Sources crawled at the same time (daemon and `crawl`)."
    )
    max_backoff: float = Field(
        6 * 3600, ge=1, description="Longest wait, in seconds, after repeated failures of a source."
    )
    stale_factor: float = Field(
        4.0, gt=1, description="A source is 'stale' after this many times its usual rhythm "
        "without news."
    )
    first_run_spread: float = Field(
        30.0, ge=0, description="Seconds over which sources' first crawls are spread at start."
    )
    shutdown_timeout: float = Field(
        30.0, gt=0, description="Seconds SIGTERM waits for crawls in flight before exiting."
    )
    reload_poll: float = Field(
        5.0, ge=0, description="Seconds between checks of sources/ for edited files; "
        "0 = SIGHUP only."
    )
    http_host: str = Field(
        "127.0.0.1", description="Address of the /healthz and /metrics endpoint.")
    http_port: int = Field(
        8790, ge=0, le=65535, description="Port of the /healthz and /metrics endpoint; 0 = off."
    )
    log: LogSettings = Field(default_factory=LogSettings, description="Logging.")
    screenshots: ScreenshotSettings = Field(
        default_factory=ScreenshotSettings, description="Screenshots of originals."
    )
    translation: TranslationSettings = Field(
        default_factory=TranslationSettings, description="Machine translation (off by default)."
    )
    web: WebSettings = Field(default_factory=WebSettings, description="The web view and API.")
    node: NodeSettings = Field(
        default_factory=NodeSettings, description="Several nodes on one PostgreSQL."
    )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'aggregator.db').resolve()}"

    @property
    def node_name(self) -> str:
        return self.node.name or f"{socket.gethostname()}-{os.getpid()}"

    @property
    def sources_dir(self) -> Path:
        return self.config_dir / "sources"

    @property
    def workers(self) -> int:
        return self.extract_workers or (os.cpu_count() or 1)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the YAML file, which arrives as init arguments.
        return env_settings, init_settings


def world_writable(path: Path) -> str | None:
    """Why a config file must not be trusted: anyone on the machine could have edited it
    (pointed a source at an internal address, the database elsewhere)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & stat.S_IWOTH:
        return (f"refused: the file is world-writable (mode {stat.filemode(mode)}); "
                f"run `chmod o-w {path}`")
    return None


def resolve_config_dir(cli_value: str | Path | None) -> Path:
    """`--config DIR`, else `$AGGREGATOR_CONFIG`, else `./config`."""
    return Path(cli_value or os.environ.get(CONFIG_ENV) or "config")


def load_settings(config_dir: str | Path | None = None) -> Settings:
    """Read `<config_dir>/aggregator.yaml` (optional) and the environment; raise ConfigError."""
    directory = resolve_config_dir(config_dir)
    path = directory / SETTINGS_FILE
    values: dict[str, Any] = {}
    if path.exists():
        if problem := world_writable(path):
            raise ConfigError(f"{path}: {problem}")
        try:
            loaded = load_file(path) or {}
        except YamlProblem as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of settings")
        values = loaded
    values["config_dir"] = directory
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from exc
