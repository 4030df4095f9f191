"""Which format a log a user brings is in: Istio's default TEXT format of every release, Envoy's
own default, and JSON, recognised line by line without ``--log-format``.

Istio changed its default access-log format several times (``EnvoyTextLogFormat`` in istio/istio,
``pilot/pkg/networking/core/v1alpha3/listener.go`` before 1.9, ``pilot/pkg/model/
telemetry_logging.go`` since): 1.0 had no Mixer status, 1.1 added
``"%DYNAMIC_METADATA(istio.mixer:status)%"`` and ``%REQUESTED_SERVER_NAME%``, 1.3 the upstream
transport failure reason and ``%ROUTE_NAME%``, 1.8 dropped the Mixer status, and 1.9 added the
response code and connection termination details. A saved log of an older mesh is in one of
those. ``DetectingParser`` tries them in turn, moving the one that took the last line first, so a
file in one format costs one pattern a line, and counts which took how many lines (``used``).
A line is read by the tolerant pattern (values that hold the next literal's first character)
of the format tried first only when no format's exact pattern takes it.
"""

from __future__ import annotations

from collections import Counter

from meshtui.accesslog.format import ISTIO_TEXT_FORMAT
from meshtui.accesslog.parser import AutoParser, JsonParser, TextParser
from meshtui.accesslog.record import Record

_HEAD = '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% '
_CLIENT = ('%DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" '
           '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"')
_ADDRESSES = " %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS%"
_MIXER = '"%DYNAMIC_METADATA(istio.mixer:status)%" '
_FAILURE = '"%UPSTREAM_TRANSPORT_FAILURE_REASON%" '

#: (name, format): the defaults of Istio's releases, newest first, then Envoy's own default.
KNOWN_TEXT_FORMATS: tuple[tuple[str, str], ...] = (
    ("Istio 1.9+ default", ISTIO_TEXT_FORMAT),
    ("Istio 1.8 default", _HEAD + _FAILURE + "%BYTES_RECEIVED% %BYTES_SENT% " + _CLIENT + _ADDRESSES
     + " %REQUESTED_SERVER_NAME% %ROUTE_NAME%"),
    ("Istio 1.3-1.7 default", _HEAD + _MIXER + _FAILURE + "%BYTES_RECEIVED% %BYTES_SENT% " + _CLIENT + _ADDRESSES
     + " %REQUESTED_SERVER_NAME% %ROUTE_NAME%"),
    ("Istio 1.1-1.2 default", _HEAD + _MIXER + "%BYTES_RECEIVED% %BYTES_SENT% " + _CLIENT + _ADDRESSES
     + " %REQUESTED_SERVER_NAME%"),
    ("Istio 1.0 default", _HEAD + "%BYTES_RECEIVED% %BYTES_SENT% " + _CLIENT + _ADDRESSES),
    ("Envoy's default", _HEAD + "%BYTES_RECEIVED% %BYTES_SENT% " + _CLIENT),
)
JSON_NAME = "JSON"
#: The name of the format a line of today's Istio is in.
CURRENT = KNOWN_TEXT_FORMATS[0][0]


class DetectingParser(AutoParser):
    """Parses each line by whichever known format takes it (see the module docstring); lines that
    start with ``{`` are JSON. ``used`` says which formats took how many lines."""

    def __init__(self) -> None:
        self.candidates: list[tuple[str, TextParser]] = [(name, TextParser(fmt)) for name, fmt in KNOWN_TEXT_FORMATS]
        super().__init__(self.candidates[0][1], JsonParser())
        self.counts: Counter[str] = Counter()

    @property
    def front(self) -> str:
        """The name of the format tried first now (the last one that took a line)."""
        return self.candidates[0][0]

    def parse(self, line: str) -> Record | None:
        """The record of ``line`` in the first known format that takes it, or ``None``."""
        if line[:1] == "{" or (line[:1].isspace() and line.lstrip()[:1] == "{"):
            record = self.json.parse(line)
            if record is not None:
                self.counts[JSON_NAME] += 1
            return record
        candidates = self.candidates
        # Every format's exact pattern first: a tolerant match would read a line of one format
        # as another's, fields shifted.
        for i, (name, parser) in enumerate(candidates):
            record = parser.parse_exact(line)
            if record is not None:
                self.counts[name] += 1
                if i:
                    candidates.insert(0, candidates.pop(i))
                    self.text = parser
                return record
        # Then the tolerant pattern (a quote inside a user agent) of the format the lines are
        # in so far only: trying every format's would make each line that is no access log
        # line cost a dozen slow patterns.
        name, parser = candidates[0]
        record = parser.parse(line)
        if record is not None:
            self.counts[name] += 1
        return record

    def detect(self, lines: list[str]) -> None:
        """Put first the format that takes most of ``lines`` (a sample: nothing is counted)."""
        scores: Counter[str] = Counter()
        for line in lines:
            for name, parser in self.candidates:
                if parser.parse_exact(line) is not None:
                    scores[name] += 1
                    break
        if scores:
            best = max(self.candidates, key=lambda c: scores[c[0]])
            self.candidates.remove(best)
            self.candidates.insert(0, best)
            self.text = best[1]

    def credit(self, name: str, lines: int) -> None:
        """Count ``lines`` parsed elsewhere (a bulk pass) with the pattern of format ``name``."""
        if lines:
            self.counts[name] += lines

    def used(self) -> str:
        """``Istio 1.3-1.7 default TEXT format (27 lines), Istio 1.9+ default ... (55 lines)``."""
        return ", ".join(f"{name}{'' if name == JSON_NAME else ' TEXT format'} ({n:,} line{'s' if n != 1 else ''})"
                         for name, n in self.counts.most_common())
