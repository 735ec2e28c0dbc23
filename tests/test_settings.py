"""Settings: YAML file, environment overrides, clear errors."""

from __future__ import annotations

import pytest

from aggregator.errors import ConfigError
from aggregator.settings import load_settings


def test_defaults_put_sqlite_in_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(tmp_path / "nowhere")
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'data' / 'aggregator.db'}"
    assert settings.log.level == "INFO" and settings.obey_robots


def test_environment_beats_the_file(tmp_path, monkeypatch):
    (tmp_path / "aggregator.yaml").write_text(
        "user_agent: from-file\nconcurrency: 4\nlog: {level: warning, format: text}\n")
    monkeypatch.setenv("AGGREGATOR_USER_AGENT", "from-env")
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("AGGREGATOR_LOG__FORMAT", "json")
    settings = load_settings(tmp_path)
    assert settings.user_agent == "from-env"
    assert settings.concurrency == 4
    assert settings.log.level == "WARNING" and settings.log.format == "json"
    assert settings.effective_database_url == "postgresql+psycopg://u@h/db"


def test_config_dir_from_environment(tmp_path, monkeypatch):
    (tmp_path / "aggregator.yaml").write_text("concurrency: 3\n")
    monkeypatch.setenv("AGGREGATOR_CONFIG", str(tmp_path))
    assert load_settings().concurrency == 3


def test_bad_values_name_the_file_and_field(tmp_path):
    (tmp_path / "aggregator.yaml").write_text("concurrency: -1\nlog: {format: xml}\nbogus: 1\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "aggregator.yaml") in message
    assert "concurrency" in message and "log.format" in message and "bogus" in message
