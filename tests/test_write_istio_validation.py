"""The write path runs Istio's validation first: what istiod would refuse is blocked in every
source (here manifests on disk, where no webhook stands behind the write) with Istio's text,
and what it accepts with a warning must be confirmed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from meshtui.sources.base import ObjectKey
from meshtui.sources.files import FilesSource
from meshtui.write.apply import Writer, find_object
from meshtui.write.audit import AuditLog
from meshtui.write.plan import ChangePlan

MANIFEST = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: catalog
  namespace: shop
spec:
  hosts:
  - catalog
  http:
  - route:
    - destination:
        host: catalog
"""


def _plan(tmp_path: Path, edit: Any) -> tuple[ChangePlan, Path]:
    path = tmp_path / "catalog.yaml"
    path.write_text(MANIFEST)
    source = FilesSource(str(tmp_path))
    objects = source.snapshot().objects
    vs = find_object(objects, ObjectKey("VirtualService", "shop", "catalog"))
    assert vs is not None
    return ChangePlan.build(source, vs, edit, "test edit", objects), path


def test_an_edit_istio_rejects_is_blocked_with_istios_message(tmp_path: Path) -> None:
    def drop_routes(obj: dict[str, Any]) -> dict[str, Any]:
        new = copy.deepcopy(obj)
        del new["spec"]["http"]
        return new

    plan, path = _plan(tmp_path, drop_routes)
    outcome = Writer(AuditLog(tmp_path / "audit.jsonl")).run(plan)
    assert (outcome.result, outcome.exit_code) == ("invalid", 1)
    assert "http, tcp or tls must be provided in virtual service" in outcome.message
    assert [p.code for p in outcome.validation.errors] == ["IST0106"]
    assert path.read_text() == MANIFEST


def test_an_edit_istio_warns_about_must_be_confirmed(tmp_path: Path) -> None:
    def abort_without_status(obj: dict[str, Any]) -> dict[str, Any]:
        new = copy.deepcopy(obj)
        new["spec"]["http"][0]["fault"] = {"abort": {"percentage": {"value": 10}}}
        return new

    plan, path = _plan(tmp_path, abort_without_status)
    writer = Writer(AuditLog(tmp_path / "audit.jsonl"))
    preview = writer.check(plan)
    assert preview.blocked is None
    assert preview.needs_confirmation
    assert [(p.code, p.message) for p in preview.validation.warnings] == [
        ("IST0133", "abort configured, but error type not set")]
    outcome = writer.run(plan, confirm=lambda p: False)
    assert outcome.result == "cancelled"
    assert path.read_text() == MANIFEST
