"""Docs that tests keep honest: every setting, source key, command, export field and column."""

from __future__ import annotations

import typing
from pathlib import Path

import click
import pytest

from aggregator.cli import cli
from aggregator.db.models import Base
from aggregator.export import article_record
from aggregator.settings import Settings
from aggregator.sources import Source

DOCS = Path(__file__).resolve().parents[1] / "docs"


def read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _keys(model, prefix: str = "") -> list[str]:
    """Dotted keys of a settings model, nested models spelled out (`log.level`)."""
    out = []
    for name, field in model.model_fields.items():
        kinds = [field.annotation, *typing.get_args(field.annotation)]
        nested = next((k for k in kinds if hasattr(k, "model_fields")), None)
        if nested is not None:
            out.extend(_keys(nested, f"{prefix}{name}."))
        else:
            out.append(f"{prefix}{name}")
    return out


def test_every_setting_and_source_key_is_documented():
    text = read("configuration.md")
    keys = [*_keys(Settings), *_keys(Source)]
    missing = [k for k in keys if f"`{k}`" not in text]
    assert not missing, f"undocumented in docs/configuration.md: {missing}"


def _commands(group: click.Group, prefix: str = "aggregator"):
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            yield from _commands(command, path)
        else:
            yield path


def test_every_command_is_documented():
    text = read("cli.md")
    missing = [c for c in _commands(cli) if f"`{c}" not in text]
    assert not missing, f"undocumented in docs/cli.md: {missing}"


def test_every_export_field_is_documented():
    from tests.test_export import sample_view

    text = read("export.md")
    missing = [k for k in article_record(sample_view()) if f"`{k}`" not in text]
    assert not missing, f"undocumented in docs/export.md: {missing}"


@pytest.mark.parametrize("table", sorted(Base.metadata.tables))
def test_every_table_and_column_is_documented(table):
    text = read("schema.md")
    assert f"## `{table}`" in text
    columns = [c.name for c in Base.metadata.tables[table].columns]
    section = text.split(f"## `{table}`", 1)[1].split("\n## ", 1)[0]
    missing = [c for c in columns if f"`{c}`" not in section]
    assert not missing, f"undocumented columns of {table}: {missing}"
