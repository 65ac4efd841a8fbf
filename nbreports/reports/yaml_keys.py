"""YAML as the specs are read: safe, fast (libyaml where PyYAML has it), no key given twice, YAML 1.2 booleans.

YAML keeps the last of two equal keys without a word, so ``title:`` written twice, or two
``parameters:`` blocks, would silently lose one; here it is an error naming both lines.
PyYAML reads YAML 1.1, where ``on``, ``off``, ``yes``, ``no`` are booleans: a notify rule's
``on: [failure]`` would become ``True: [failure]``. Here, as in YAML 1.2, only true/false are.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

# libyaml's loader where PyYAML has it: the same safe YAML, ~10x faster. DAG parsing reads every
# report.yaml on every parse.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_YAML_LOADER):  # type: ignore[misc]
    """The safe loader refusing a key given twice in one mapping (YAML would keep the last, silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key == "<<" or not isinstance(key, str | int | float | bool):
                continue  # merge keys and odd keys: the constructor's own checks
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice (lines {seen[key]} and {line})", key_node.start_mark
                )
            seen[key] = line
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


_BOOL = "tag:yaml.org,2002:bool"
_UniqueKeyLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL]
    for first, resolvers in _YAML_LOADER.yaml_implicit_resolvers.items()
}
_UniqueKeyLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load_yaml(text: str) -> Any:
    """The document in ``text``; ``yaml.YAMLError`` for bad YAML or a key given twice."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a subclass of CSafeLoader or SafeLoader
