"""Editing Istio's own sample manifests in place: one value changes one line.

Istio's samples (``conformance/samples``) are real files with all the irregularities people
write: 3- and 5-space indentation, lists indented and not, comments at odd columns, blank
lines with spaces. Each scalar under ``spec`` of each object is changed in turn (the first few
per object); the file must then differ from before in exactly that line (whitespace-only lines
aside: ruamel.yaml cannot keep a line holding only spaces next to an edited value).
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import pytest

from meshtui.sources.base import ObjectKey
from meshtui.sources.files import FilesSource
from paths import CONFORMANCE_ROOT

CONFORMANCE = CONFORMANCE_ROOT
SAMPLES = sorted((CONFORMANCE / "samples").rglob("*.yaml"))
LEAVES_PER_OBJECT = 4


def _scalars(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _scalars(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _scalars(v, path + (i,))
    elif isinstance(value, (int, str)) and not isinstance(value, bool):
        yield path, value


def _changed(before: str, after: str) -> list[str]:
    a, b = before.splitlines(), after.splitlines()
    ops = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    return [f"-{ln}" for t, i1, i2, _, _ in ops if t != "equal" for ln in a[i1:i2]] + [
        f"+{ln}" for t, _, _, j1, j2 in ops if t != "equal" for ln in b[j1:j2]
    ]


def test_there_are_samples() -> None:
    assert len(SAMPLES) > 50


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: str(p.relative_to(CONFORMANCE / "samples")))
def test_one_value_changes_one_line(sample: Path, tmp_path: Path) -> None:
    shutil.copy(sample, tmp_path / sample.name)
    (tmp_path / sample.name).chmod(0o644)  # the reference copy is read-only; a user's manifest is not
    source = FilesSource(str(tmp_path))
    snap = source.snapshot()
    for obj in snap.objects:
        key = ObjectKey.of(obj)
        leaves = [(p, v) for p, v in _scalars(obj.get("spec") or {}, ("spec",))][:LEAVES_PER_OBJECT]
        for path, value in leaves:
            base = next(o for o in source.snapshot().objects if ObjectKey.of(o) == key)
            edited = copy.deepcopy(base)
            holder: Any = edited
            for step in path[:-1]:
                holder = holder[step]
            holder[path[-1]] = value + 1 if isinstance(value, int) else value + "x"
            before = (tmp_path / sample.name).read_text()

            result = source.apply(edited, base=base)

            changed = [ln for ln in _changed(before, (tmp_path / sample.name).read_text()) if ln[1:].strip()]
            assert len(changed) == 2, (key, path, changed)
            assert result.object == edited
