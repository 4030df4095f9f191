"""`meshtui proxy-config` reproduces every istioctl golden in the conformance data.

Driven by ``conformance/proxy-config/index.yaml``: for each golden, the istioctl command line
recorded there is run through meshtui's CLI from the case directory, and the output compared:

* tables (``.txt``): byte for byte, trailing spaces included (no whitespace normalisation);
* ``.json``: parsed JSON equal (istioctl's protobuf printer promises no stable whitespace;
  the ecds golden is even re-indented by istioctl's test);
* ``.yaml``: parsed YAML equal.

VALID CERT (secret tables, also in ``all``) depends on the clock. For cases the index marks
``time_dependent`` we pass ``--now`` set to the time of the Istio commit the goldens were
copied from (README: master-2026-08-22T19-00-53, "committed 2026-08-22"), when, as the index
says, the root CAs were valid (until 2033/2034) and the workload certificates had expired.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import yaml

from meshtui.cli import main
from paths import CONFORMANCE_ROOT

CONFORMANCE = CONFORMANCE_ROOT
PROXY_CONFIG = CONFORMANCE / "proxy-config"
RECORDED_AT = "2026-08-22T19:00:53Z"


def _goldens() -> list:
    index = yaml.safe_load((PROXY_CONFIG / "index.yaml").read_text())
    params = []
    for case in index["cases"]:
        for golden in case["goldens"]:
            params.append(
                pytest.param(case, golden, id=Path(golden["file"]).relative_to(case["id"]).as_posix() + f"[{case['id']}]")
            )
    return params


def _run(argv: list[str], case_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    monkeypatch.chdir(case_dir)
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("case", "golden"), _goldens())
def test_output_equals_istioctl_golden(case: dict, golden: dict, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    words = shlex.split(golden["command"])
    assert words[0] == "istioctl"
    argv = words[1:]
    if case.get("time_dependent"):
        argv += ["--now", RECORDED_AT]
    case_dir = (PROXY_CONFIG / case["input"]).parent
    code, out, err = _run(argv, case_dir, monkeypatch, capsys)
    assert code == 0, err
    want_path = PROXY_CONFIG / golden["file"]
    want = want_path.read_text()
    if want_path.suffix == ".txt":
        assert out == want
    elif want_path.suffix == ".json":
        assert json.loads(out) == json.loads(want)
    else:
        assert yaml.safe_load(out) == yaml.safe_load(want)


def test_every_index_case_is_covered() -> None:
    # The index lists every golden in the directory: none is silently skipped.
    listed = {g["file"] for c in yaml.safe_load((PROXY_CONFIG / "index.yaml").read_text())["cases"] for g in c["goldens"]}
    on_disk = {p.relative_to(PROXY_CONFIG).as_posix() for p in PROXY_CONFIG.glob("*/golden.*")}
    assert listed == on_disk


def test_valid_cert_follows_the_clock(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # Before the ROOTCA's NotBefore (2023-05-05) nothing is valid; inside the workload
    # certificate's one-day window both are.
    case_dir = PROXY_CONFIG / "secret-istio"
    _, before, _ = _run(["proxy-config", "secret", "-f", "config_dump.json", "--now", "2023-05-01T00:00:00Z"], case_dir, monkeypatch, capsys)
    _, during, _ = _run(["proxy-config", "secret", "-f", "config_dump.json", "--now", "2023-05-15T12:00:00Z"], case_dir, monkeypatch, capsys)
    def valid(text: str, name: str) -> str:
        header, *rows = text.splitlines()
        column = header.index("VALID CERT")  # cells are left-aligned under their header
        return next(r[column:].split()[0] for r in rows if r.split()[0] == name)

    assert (valid(before, "default"), valid(before, "ROOTCA")) == ("false", "false")
    assert (valid(during, "default"), valid(during, "ROOTCA")) == ("true", "true")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"a": 1}', 'meshtui: config_dump.json: not an Envoy config dump (no "configs" list)'),
        (b"[1, 2]", 'meshtui: config_dump.json: not an Envoy config dump (no "configs" list)'),
        (b"{not json", "meshtui: config_dump.json: not valid JSON"),
        (b"", "meshtui: config_dump.json: not valid JSON"),
    ],
)
def test_bad_dump_is_one_line_exit_2(content: bytes, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "config_dump.json").write_bytes(content)
    for kind in ("routes", "clusters", "listeners", "all", "eds", "secret"):
        code, out, err = _run(["proxy-config", kind, "-f", "config_dump.json"], tmp_path, monkeypatch, capsys)
        assert code == 2
        assert out == ""
        assert err.startswith(message) and err.count("\n") == 1, err


def test_missing_section_and_file_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["proxy-config", "clusters", "-f", str(PROXY_CONFIG / "bootstrap" / "config_dump.json")], tmp_path, monkeypatch, capsys)
    assert code == 2 and "ClustersConfigDump" in err and err.count("\n") == 1
    code, _, err = _run(["proxy-config", "routes", "-f", "nope.json"], tmp_path, monkeypatch, capsys)
    assert code == 2 and err == "meshtui: nope.json: No such file or directory\n"
    code, _, err = _run(["proxy-config", "endpoints", "-f", str(PROXY_CONFIG / "all" / "config_dump.json")], tmp_path, monkeypatch, capsys)
    assert code == 2 and "cluster_statuses" in err


def test_pod_or_file_is_required(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(["proxy-config", "routes"], tmp_path, monkeypatch, capsys)
    assert code == 2 and err.startswith("meshtui: proxy-config routes requires POD[.NS] or --file")


def test_wide_adds_weight_and_header_matches_without_changing_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    route = {
        "name": "9080",
        "virtual_hosts": [
            {
                "name": "reviews:9080",
                "domains": ["reviews"],
                "routes": [
                    {
                        "match": {"prefix": "/", "headers": [{"name": "end-user", "string_match": {"exact": "jason"}}]},
                        "route": {"weighted_clusters": {"clusters": [{"name": "v1", "weight": 90}, {"name": "v2", "weight": 10}]}},
                    }
                ],
            }
        ],
    }
    dump = {"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump", "dynamic_route_configs": [{"route_config": route}]}]}
    (tmp_path / "d.json").write_text(json.dumps(dump))
    _, default, _ = _run(["proxy-config", "routes", "-f", "d.json"], tmp_path, monkeypatch, capsys)
    _, wide, _ = _run(["proxy-config", "routes", "-f", "d.json", "--wide"], tmp_path, monkeypatch, capsys)
    assert default.splitlines()[0].split() == ["NAME", "VHOST", "NAME", "DOMAINS", "MATCH", "VIRTUAL", "SERVICE"]
    assert "jason" not in default and "v1" not in default  # istioctl drops both
    header, row = wide.splitlines()
    assert header.split()[-1] == "WEIGHT"
    assert "/* end-user=jason" in row
    assert row.rstrip().endswith("v1:90, v2:10")


# -- the live form: POD[.NS] through the kube source and the sandbox's simulated Envoy admin ---


@pytest.fixture(scope="module")
def sidecar_pod(sandbox):  # type: ignore[no-untyped-def]
    from kubernetes import client, config

    api = config.new_client_from_config(str(sandbox.kubeconfig_path), context="meshtui-sandbox")
    try:
        pods = client.CoreV1Api(api).list_pod_for_all_namespaces().items
    finally:
        api.close()
    pod = next(p for p in pods if any(c.name == "istio-proxy" for c in p.spec.containers or []))
    return f"{pod.metadata.name}.{pod.metadata.namespace}"


def _live(sandbox, *argv: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [*argv, "--kubeconfig", str(sandbox.kubeconfig_path), "--context", "meshtui-sandbox"]


def test_live_pod_tables_match_the_pods_admin_output(sandbox, sidecar_pod: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from meshtui.sources.kube import KubeSource

    name, ns = sidecar_pod.split(".", 1)
    src = KubeSource.from_kubeconfig(kubeconfig=str(sandbox.kubeconfig_path), context="meshtui-sandbox")
    try:
        clusters_json = json.loads(src.envoy_admin(ns, name, "/clusters?format=json"))
        dump = json.loads(src.envoy_admin(ns, name, "/config_dump?include_eds"))
    finally:
        src.close()
    hosts = sum(len(c.get("host_statuses") or c.get("hostStatuses") or []) for c in clusters_json["cluster_statuses"])
    code, out, err = _run(_live(sandbox, "proxy-config", "endpoints", sidecar_pod), tmp_path, monkeypatch, capsys)
    assert code == 0, err
    assert len(out.splitlines()) == 1 + hosts
    (tmp_path / "dump.json").write_bytes(json.dumps(dump).encode())
    for kind in ("clusters", "listeners", "routes", "eds"):
        code, live, err = _run(_live(sandbox, "proxy-config", kind, sidecar_pod), tmp_path, monkeypatch, capsys)
        assert code == 0, err
        _, saved, _ = _run(["proxy-config", kind, "-f", "dump.json"], tmp_path, monkeypatch, capsys)
        assert live == saved and live.count("\n") > 1


def test_live_unknown_pod_is_one_line(sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    code, out, err = _run(_live(sandbox, "proxy-config", "routes", "no-such-pod.default"), tmp_path, monkeypatch, capsys)
    assert code == 2 and out == "" and err.startswith("meshtui: no-such-pod.default: ") and err.count("\n") == 1


@pytest.mark.parametrize("argv", [
    ["proxy-config", "endpoints", "web-1", "--service", "web"],
    ["proxy-config", "endpoints", "--service", "web", "--file", "clusters.json"],
    ["proxy-config", "clusters", "--service", "web"],
    ["proxy-config", "endpoints", "--service", "a.b.c"],
])
def test_service_endpoints_flag_errors_are_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(argv)
    _out, err = capsys.readouterr()
    assert code == 2 and err.startswith("meshtui: ") and len(err.strip().splitlines()) == 1
