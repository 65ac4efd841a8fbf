"""Redact a run's secrets from what it publishes: the output notebook, the log lines, error texts.

A secret is the value of a setting whose name says it is one (``*_SECRET*``, ``*PASSWORD*``,
``*TOKEN*``, ``*ACCESS_KEY*`` …) in the kernel's or the worker's environment, a secret field of the
store options, or the password of the database URL; the Airflow adapters add the connections' and
variables' values they hand to a run. Each is replaced by ``***`` wherever it appears in the
outputs of the notebook (streams, rich data, tracebacks), so the HTML and the scraps, made from the
stored notebook, never see it. Values shorter than 6 characters are not masked: masking ``true``
or ``1`` everywhere would mangle reports and protect nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
MIN_LENGTH = 6
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|ACCESS_KEY|API_KEY|SESSION", re.IGNORECASE)
_OPTION_KEYS = {"secret", "key", "token", "password", "aws_secret_access_key", "aws_session_token"}


def secrets_of(
    env: Mapping[str, str], options: Mapping[str, Any] | None = None, urls: Iterable[str] = ()
) -> frozenset[str]:
    """The secret values among ``env`` (by name), store ``options`` (by key) and the passwords of ``urls``."""
    found = {value for name, value in env.items() if SECRET_NAME.search(name)}
    found |= {str(v) for k, v in (options or {}).items() if k.lower() in _OPTION_KEYS and isinstance(v, str)}
    for url in urls:
        match = re.match(r"^[\w+.-]+://[^:/@]*:([^@]+)@", url)
        if match:
            found.add(match.group(1))
    return frozenset(v for v in found if len(v) >= MIN_LENGTH)


class Redactor:
    """Replaces every occurrence of the given secrets by ``***`` (longest first, so no part survives)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        values = sorted({s for s in secrets if len(s) >= MIN_LENGTH}, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, values))) if values else None
        # how the values look inside a notebook's JSON (quotes, backslashes, control characters escaped)
        escaped = {json.dumps(v, ensure_ascii=False)[1:-1] for v in values}
        self._in_json = re.compile("|".join(map(re.escape, escaped))) if values else None
        self.count = 0

    def text(self, value: str) -> str:
        """``value`` with every secret masked."""
        if self._pattern is None:
            return value
        masked, n = self._pattern.subn(MASK, value)
        self.count += n
        return masked

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self._walk(v) for v in value]
        if isinstance(value, dict):
            return {k: self._walk(v) for k, v in value.items()}
        return value

    def notebook(self, content: bytes) -> bytes:
        """The notebook's JSON with every secret masked in its cells' outputs (sources are the author's)."""
        if self._in_json is None or self._in_json.search(content.decode("utf-8", "replace")) is None:
            return content  # the common case: nothing to mask, the bytes stay exactly as written
        nb = json.loads(content)
        for cell in nb.get("cells", []):
            if "outputs" in cell:
                cell["outputs"] = self._walk(cell["outputs"])
        return (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
