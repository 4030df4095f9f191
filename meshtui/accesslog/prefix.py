"""Prefixes that log collectors put before a proxy's access-log line.

``kubectl logs --timestamps`` prepends an RFC3339 time, multi-pod tools (stern, kubetail) the
pod and container names, and ``journalctl``'s short format the time, host and process. The
line itself follows unchanged, so a line that does not parse is tried again without them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# Each matches one prefix with the single space after it; they may stack (stern --timestamps).
_PREFIXES = (
    re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d) "),  # kubectl --timestamps
    re.compile(r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ [^\s:\[]+(?:\[\d+\])?: "),  # journalctl short
    re.compile(r"[a-z0-9][-a-z0-9.]{0,252} [a-z0-9][-a-z0-9]{0,62} "),  # stern/kubetail: pod container
)
_MAX_PREFIXES = 3


def parse_prefixed(line: str, parse: Callable[[str], T | None]) -> T | None:
    """``parse`` applied to ``line`` without the collectors' prefixes it carries, or ``None``.

    Only a line that failed to parse as it is should come here: stripping is a fallback.
    """
    rest = line
    for _ in range(_MAX_PREFIXES):
        for prefix in _PREFIXES:
            match = prefix.match(rest)
            if match is not None:
                rest = rest[match.end():]
                record = parse(rest)
                if record is not None:
                    return record
                break
        else:
            return None
    return None
