"""YAML configuration files read with bounded work: the only PyYAML user.

`yaml.safe_load` refuses Python tags but not an alias bomb: ten anchors of ten aliases each
compose in milliseconds into a structure of 10^10 shared references, and whatever walks it
next (validation, `str()`) runs out of memory. Deep nesting overflows PyYAML's recursive
composer with a RecursionError. This loader composes the node graph first, refuses nesting
deeper than MAX_DEPTH while composing, counts what the aliases would expand to before
anything is constructed, and turns every failure into one `YamlProblem` naming the top-level
key (or `(file)`) and the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_BYTES = 1024 * 1024  # a configuration file is a few kilobytes
MAX_DEPTH = 20  # collections inside collections; configuration needs three or four
MAX_NODES = 10_000  # values once every alias is expanded; a source file has about fifty
FILE = "(file)"


class YamlProblem(Exception):
    """Why a YAML file was refused: `field` is its top-level key, or `(file)`."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def _line(mark: yaml.Mark | None) -> str:
    return f" at line {mark.line + 1}" if mark is not None else ""


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader whose scanner and composer count their depth. (The scanner looks ahead
    while brackets stay open: it must stop at the limit too, or 50,000 of them take seconds.)"""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._key: str = FILE

    def _too_deep(self, mark: yaml.Mark) -> YamlProblem:
        return YamlProblem(self._key, f"nested deeper than {MAX_DEPTH} levels{_line(mark)}")

    def fetch_flow_collection_start(self, token_class: type) -> None:
        if self.flow_level >= MAX_DEPTH:
            raise self._too_deep(self.get_mark())
        super().fetch_flow_collection_start(token_class)

    def compose_node(self, parent: Node | None, index: Node | None) -> Node:
        if self._depth == 1 and isinstance(index, ScalarNode):
            self._key = str(index.value)  # the value of a top-level key is being composed
        if self._depth >= MAX_DEPTH:
            raise self._too_deep(self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:  # a date like 2026-02-31, a 5,000-digit int
            raise YamlProblem(FILE, f"not valid YAML{_line(node.start_mark)}: {exc}") from exc


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def expanded_size(root: Node, limit: int = MAX_NODES) -> int:
    """How many nodes `root` stands for once every alias is expanded (shared nodes counted
    each time they are referred to), stopping past `limit`; computed once per distinct node,
    without recursion. Raises ValueError for an alias inside its own anchor's collection."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            sizes[key] = min(limit + 1, 1 + sum(sizes[id(c)] for c in _children(node)))
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise ValueError("an alias refers to the collection that contains it")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
    return sizes[id(root)]


def _check_size(root: Node) -> None:
    try:
        if expanded_size(root) <= MAX_NODES:
            return
        pairs = root.value if isinstance(root, MappingNode) else []
        field = next((str(key.value) for key, value in pairs  # the first key too big
                      if isinstance(key, ScalarNode) and expanded_size(value) > MAX_NODES), FILE)
        raise YamlProblem(field, f"refused: more than {MAX_NODES} values once its aliases are "
                                 "expanded (an alias bomb?)")
    except ValueError as exc:
        raise YamlProblem(FILE, f"refused: {exc}") from exc


def loads(text: str) -> Any:
    """One YAML document -> Python values (None when empty); raises YamlProblem."""
    loader = _BoundedLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_size(root)
        return loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None)
        raise YamlProblem(FILE, f"not valid YAML{_line(mark)}"
                                + (f": {problem}" if problem else "")) from exc
    finally:
        loader.dispose()


def load_file(path: Path) -> Any:
    """Read and parse a configuration file, refusing one larger than MAX_BYTES."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise YamlProblem(FILE, f"cannot read: {exc}") from exc
    if len(data) > MAX_BYTES:
        raise YamlProblem(FILE, f"refused: larger than {MAX_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlProblem(FILE, f"cannot read: {exc}") from exc
    return loads(text)
