"""proxy-config edge cases istioctl handles: an empty clusters answer, and a listener whose
filters changed while its summary row did not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meshtui.cli import main
from paths import CONFORMANCE_ROOT

ALL_DUMP = CONFORMANCE_ROOT / "proxy-config" / "all" / "config_dump.json"


def test_endpoints_of_an_empty_clusters_answer_prints_the_header(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # "{}" is a valid, empty ClusterStatuses in proto3 JSON (an empty list is left out).
    (tmp_path / "clusters.json").write_text("{}")
    assert main(["proxy-config", "endpoints", "-f", str(tmp_path / "clusters.json")]) == 0
    assert capsys.readouterr().out.split() == ["ENDPOINT", "STATUS", "OUTLIER", "CHECK", "CLUSTER"]


def test_diff_reports_a_listener_whose_filter_config_changed(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    text = ALL_DUMP.read_text()
    changed = json.dumps(json.loads(text)).replace('"stat_prefix": "inbound_0.0.0.0_8000"',
                                                   '"stat_prefix": "inbound_renamed"', 1)
    (tmp_path / "b.json").write_text(changed)
    main(["proxy-config", "listeners", "-f", str(ALL_DUMP)])
    rows_a = capsys.readouterr().out
    main(["proxy-config", "listeners", "-f", str(tmp_path / "b.json")])
    assert capsys.readouterr().out == rows_a  # the summary rows are the same
    assert main(["proxy-config", "diff", str(ALL_DUMP), str(tmp_path / "b.json")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == ["LISTENER", "~", "main_internal", "changed:",
                              "filter_chains[0].filters[0].typed_config.stat_prefix"]
