"""``meshtui ztunnel-config services|all`` and ``-o json|yaml`` print what istioctl prints for a ztunnel dump."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from paths import CONFORMANCE_ROOT

from meshtui.cli import main

CASES_DIR = CONFORMANCE_ROOT / "ambient" / "ztunnel-config"
INDEX = yaml.safe_load((CASES_DIR / "index.yaml").read_text())
DUMP = CASES_DIR / INDEX["input"]["file"]
# The index says the certificate goldens were recorded while the istiod leaf was valid.
RECORDED = "2024-01-01T00:00:00Z"


def _case(case_id: str) -> dict[str, Any]:
    return next(c for c in INDEX["cases"] if c["id"] == case_id)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("case_id", ["all", "all-with-headers", "connections-json"])
def test_cli_prints_istioctl_golden(case_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    case = _case(case_id)
    argv = case["command"].split()[1:]
    argv[argv.index("dump.json")] = str(DUMP)
    assert _run([*argv, "--now", RECORDED], capsys) == (CASES_DIR / case["golden"]).read_text()


def test_services_table_is_the_service_section_of_the_all_golden(capsys: pytest.CaptureFixture[str]) -> None:
    golden = (CASES_DIR / _case("all-with-headers")["golden"]).read_text()
    section = golden.split("------ SERVICE INFO ------\n\n", 1)[1].split("\n------ POLICY INFO", 1)[0]
    assert _run(["ztunnel-config", "services", "-f", str(DUMP)], capsys) == section


def test_services_table_of_one_namespace(capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(["ztunnel-config", "services", "-f", str(DUMP), "--service-namespace", "DEFAULT"], capsys)
    rows = [line.split()[0] for line in out.splitlines()[1:]]
    assert rows and set(rows) == {"default"}


def _write(tmp_path: Path, dump: dict[str, Any]) -> str:
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(dump))
    return str(path)


# Istio's TestConfigWriter_PrintServiceDumpPreservesServiceFields dump (services as a map, others empty).
SERVICE_DUMP: dict[str, Any] = {
    "services": {
        "/10.0.0.1": {
            "name": "svc", "namespace": "ns", "hostname": "svc.ns.svc.cluster.local", "vips": ["/10.0.0.1"],
            "cidrVips": [{"cidr": "240.240.0.0/16"}, {"cidr": "2001:db8::/64", "network": "network1"}],
            "ports": {"80": 8080}, "endpoints": {}, "subjectAltNames": [], "canonical": True,
        }
    },
    "workloads": {}, "policies": {}, "certificates": {},
}


def test_service_json_keeps_cidr_vips_as_network_slash_cidr_and_canonical(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _run(["ztunnel-config", "services", "-f", _write(tmp_path, SERVICE_DUMP), "-o", "json"], capsys)
    [svc] = json.loads(out)
    assert svc["name"] == "svc"
    assert svc["cidrVips"] == ["/240.240.0.0/16", "network1/2001:db8::/64"]
    assert svc["canonical"] is True
    # Go struct order and zero values: ipFamilies is printed though the dump lacks it, and the
    # empty subjectAltNames is dropped (omitempty).
    assert list(svc) == ["name", "namespace", "hostname", "vips", "cidrVips", "ports", "endpoints",
                         "ipFamilies", "canonical"]
    assert out.startswith("[\n    {\n        \"name\": \"svc\",") and out.endswith("}\n]\n")


def test_yaml_orders_numeric_keys_as_go_yaml_does_json_as_strings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = json.loads(json.dumps(SERVICE_DUMP))
    dump["services"]["/10.0.0.1"]["ports"] = {"9080": 9080, "15008": 15008}
    path = _write(tmp_path, dump)
    as_json = _run(["ztunnel-config", "services", "-f", path, "-o", "json"], capsys)
    as_yaml = _run(["ztunnel-config", "services", "-f", path, "-o", "yaml"], capsys)
    # encoding/json sorts map keys as strings; go-yaml v2 compares digit runs as numbers.
    assert as_json.index('"15008"') < as_json.index('"9080"')
    assert as_yaml.index('"9080"') < as_yaml.index('"15008"')
    assert yaml.safe_load(as_yaml) == json.loads(as_json)
    assert as_yaml.startswith("- canonical: true\n  cidrVips:\n")


def test_workload_json_has_istioctls_fields_only(capsys: pytest.CaptureFixture[str]) -> None:
    out = json.loads(_run(["ztunnel-config", "workloads", "-f", str(DUMP), "-o", "json",
                           "--workload-namespace", "default"], capsys))
    assert out and {w["namespace"] for w in out} == {"default"}
    first = out[0]
    # The dump's nativeTunnel is not a field of istioctl's struct; locality prints as {}.
    assert "nativeTunnel" not in first and first["locality"] == {} and first["capacity"] == 0
    assert list(first)[:3] == ["uid", "workloadIps", "protocol"]


def test_policies_and_certificates_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    pols = yaml.safe_load(_run(["ztunnel-config", "policies", "-f", str(DUMP), "-o", "yaml"], capsys))
    assert [p["name"] for p in pols] == ["allow-nothing", "allow-waypoint"]
    assert pols[1]["rules"] == [[[{"serviceAccounts": [{"namespace": "default", "serviceAccount": "waypoint"}]}]]]
    certs = yaml.safe_load(_run(["ztunnel-config", "certificates", "-f", str(DUMP), "-o", "yaml"], capsys))
    assert certs[0]["identity"] == "spiffe://cluster.local/ns/istio-system/sa/istiod"
    assert certs[0]["rootCerts"] is None and len(certs[0]["certChain"]) == 2


def test_all_json_is_the_dump_as_read(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["ztunnel-config", "all", "-f", str(DUMP), "-o", "json"], capsys) == DUMP.read_text() + "\n"


def test_workload_table_joins_ips_names_waypoints_by_hostname_and_falls_back_to_hostname(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = {
        "workloads": [
            {"uid": "a", "name": "dual", "namespace": "ns", "workloadIps": ["10.0.0.5", "fd00::5"], "node": "n1",
             "protocol": "HBONE", "waypoint": {"destination": "ns/wp.ns.svc.cluster.local"}},
            {"uid": "b", "name": "ext", "namespace": "ns", "workloadIps": [], "hostname": "api.example.com",
             "protocol": "TCP", "waypoint": {"destination": "/10.9.9.9"}},
        ],
        "services": [{"name": "wp", "namespace": "ns", "hostname": "wp.ns.svc.cluster.local", "vips": ["/10.0.0.9"]}],
    }
    rows = _run(["ztunnel-config", "workloads", "-f", _write(tmp_path, dump)], capsys).splitlines()
    assert rows[1].split() == ["ns", "dual", "10.0.0.5,fd00::5", "n1", "wp", "HBONE"]
    assert rows[2].split() == ["ns", "ext", "api.example.com", "NA", "TCP"]


def test_certificate_table_reads_root_certs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cert = {"serialNumber": "255", "validFrom": "2023-01-01T00:00:00Z", "expirationTime": "2033-01-01T00:00:00Z"}
    dump = {"workloads": {}, "certificates": [
        {"identity": "spiffe://td/ns/a/sa/b", "state": "Available", "certChain": [cert, cert], "rootCerts": [cert]},
    ]}
    out = _run(["ztunnel-config", "certificates", "-f", _write(tmp_path, dump), "--now", RECORDED], capsys)
    assert [line.split()[1] for line in out.splitlines()[1:]] == ["Leaf", "Intermediate", "Root"]


def test_a_field_of_the_wrong_type_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, {"workloads": {"x": {"name": 5}}})
    assert main(["ztunnel-config", "workloads", "-f", path, "-o", "json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("meshtui: ") and "malformed ztunnel config dump" in err and len(err.splitlines()) == 1
