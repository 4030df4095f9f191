"""Envoy access-log parsing and traffic statistics (pure logic: no I/O, no textual/kubernetes).

- ``parser``: ``make_parser(fmt, encoding)``, ``parser_from_mesh_config``, ``TextParser``,
  ``JsonParser``, ``AutoParser``; ``parse(line) -> Record | None``.
- ``record``: ``Record`` (a slim tuple with typed lazy fields).
- ``cluster``: ``parse_cluster("outbound|9080|v1|reviews...")``.
- ``flags``: every Envoy response flag with its long name and meaning.
- ``stats``: ``SplitStats`` (observed split per subset over a sliding window).
- ``format``: Istio's default TEXT and JSON formats, the operator tokenizer.
"""

from meshtui.accesslog.cluster import ClusterName, parse_cluster
from meshtui.accesslog.format import ISTIO_JSON_FORMAT, ISTIO_TEXT_FORMAT
from meshtui.accesslog.parser import (
    AutoParser,
    FormatError,
    JsonParser,
    Parser,
    TextParser,
    make_parser,
    parser_from_mesh_config,
)
from meshtui.accesslog.record import Record
from meshtui.accesslog.stats import ErrorRollups, SplitRow, SplitStats

__all__ = [
    "AutoParser",
    "ClusterName",
    "ErrorRollups",
    "FormatError",
    "ISTIO_JSON_FORMAT",
    "ISTIO_TEXT_FORMAT",
    "JsonParser",
    "Parser",
    "Record",
    "SplitRow",
    "SplitStats",
    "TextParser",
    "make_parser",
    "parse_cluster",
    "parser_from_mesh_config",
]
