"""A YAML mapping read with the line of each key, so claim-file errors name `file:line`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Mapping:
    values: dict[str, Any]
    lines: dict[str, int]
    line: int

    def plain(self, key: str) -> Any:
        """The value under ``key`` with nested mappings and lists as plain Python."""
        return plain(self.values.get(key))

    def plain_values(self) -> dict[str, Any]:
        return {k: plain(v) for k, v in self.values.items()}


def plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.values.items()}
    if isinstance(value, list):
        return [plain(item) for item, _ in value]
    return value
