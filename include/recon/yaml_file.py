"""YAML as the project reads it: safe, and a key repeated in one mapping is an error.

PyYAML keeps the last of two equal keys without a word, so a spec with ``compare:`` twice
silently drops the first block's checks. Every YAML the project reads (specs, recon
definitions, pipeline configs) goes through :func:`load_yaml`, which refuses that, naming both
lines, and hands back the composed node as well (the loaders locate their problems on it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError


class DuplicateKeyError(ConstructorError):
    """A mapping holds the same key twice (``problem_mark``: the second one)."""


class StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key repeated in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            # the mapping's own keys, as written: a merge key (<<) only supplies defaults
            own = [k for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"]
            seen: dict[Any, yaml.Node] = {}
            for key_node in own:
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: the base loader reports it
                    continue
                if first is not None:
                    raise DuplicateKeyError(
                        None,
                        None,
                        f"duplicate key `{key}` (first at line {first.start_mark.line + 1}): "
                        "YAML would keep only the last one; remove or merge one of them",
                        key_node.start_mark,
                    )
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def yaml_text(path: Path, shown: str, what: str, error: type[Exception]) -> str:
    """The text of a YAML file; ``error(message)`` naming it as ``shown`` when it cannot be read.

    :param what: what the file is, in the messages (``spec file``, ``recon definition``).
    """
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{shown}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{shown}: cannot read the {what}: {exc}") from None


def load_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """The document's data and its composed node, parsed once.

    :raises yaml.YAMLError: not valid YAML, or a repeated key (``DuplicateKeyError``).
    """
    loader = StrictLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, node


def yaml_problem(exc: yaml.YAMLError) -> tuple[int | None, str]:
    """The 1-based line and the reason of a YAML error, for a one-line message."""
    mark = getattr(exc, "problem_mark", None)
    reason = getattr(exc, "problem", None) or str(exc)
    return (mark.line + 1 if mark is not None else None), str(reason)


__all__ = ["DuplicateKeyError", "StrictLoader", "load_yaml", "yaml_problem", "yaml_text"]
