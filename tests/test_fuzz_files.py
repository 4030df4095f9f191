"""Fuzzing the files source's YAML loading (hypothesis): whatever the files of a directory hold,
``snapshot()`` never raises; a file that does not parse is a ``LoadError`` with its path (and
line and column when the YAML parser knows them) while the other files still load; the mesh
index takes whatever loaded.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshtui.model.index import MeshIndex
from meshtui.sources.base import LoadError, ObjectKey
from meshtui.sources.files import FilesSource

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

GOOD = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: good
  namespace: shop
spec:
  hosts: [good]
  http:
  - route:
    - destination: {host: good, subset: v1}
      weight: 90
    - destination: {host: good, subset: v2}
      weight: 10
"""

# Pieces of YAML that are each fine or broken in their own way, put together at random.
FRAGMENTS = [
    "apiVersion: networking.istio.io/v1\n", "apiVersion: v1\n", "apiVersion: 3\n", "kind: VirtualService\n",
    "kind: DestinationRule\n", "kind: List\n", "kind: Service\n", "kind: Pod\n", "kind: [a]\n",
    "metadata:\n  name: x\n", "metadata:\n  name: y\n  namespace: ns\n", "metadata: null\n",
    "metadata:\n  name: [1, 2]\n", "metadata:\n  name: z\n  namespace: {a: b}\n",
    "spec:\n  hosts: [x]\n", "spec:\n  hosts: x\n", "spec: 7\n", "spec:\n  http: {a: 1}\n",
    "spec:\n  http:\n  - route: 5\n", "spec:\n  host: x\n  subsets: [{name: v1, labels: 3}]\n",
    "spec:\n  selector: [1]\n  ports: {a: b}\n", "items:\n- 1\n- kind: Service\n", "items: 3\n",
    "---\n", "--- |\n  text\n", "...\n", "# comment\n", "\n", "  indented: wrongly\n", "key: [unclosed\n",
    "key: {unclosed\n", "\"unterminated\n", "- list\n", "? complex\n: key\n", "&a [*a]\n", "*undefined\n",
    "a: &x {b: *x}\n", "!!python/object:os.system ls\n", "!custom tag\n", "\t\ttab: indent\n",
    "k: !!binary bad===\n", "k: !!int notanumber\n", "k: 2001-13-45\n", "%YAML 1.1\n---\n", "%TAG ! x\n",
    "\ufeffapiVersion: v1\n", "\x00", "\x85\u2028", "k: 'a''b'\n", "? [1, 2]\n: unhashable\n",
    "<<: *nothing\n", "<<: [1, 2]\n", "k: 1e1000\n", "k: .nan\n", "k: 0x_1\n",
]

yamlish = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=20), min_size=1, max_size=12).map("".join)
contents = st.one_of(yamlish.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=200),
                     st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))


def check_errors(errors: list[LoadError], root: Path) -> None:
    """Every error says where: a file under the directory, and line/column in range."""
    for err in errors:
        assert isinstance(err, LoadError)
        assert err.message and "\n" not in err.message
        assert err.path is not None and Path(err.path).is_relative_to(root)
        if err.line is not None:
            assert err.line >= 1
            text = Path(err.path).read_bytes().decode("utf-8", "replace")
            assert err.line <= len(text.splitlines()) + 2
        if err.column is not None:
            assert err.column >= 1 and err.line is not None
        str(err)  # the status line and the notification render it


def load(files: dict[str, bytes]) -> None:
    root = Path(tempfile.mkdtemp(prefix="meshtui-fuzz-"))
    try:
        (root / "good.yaml").write_text(GOOD)
        for name, data in files.items():
            (root / name).write_bytes(data)
        source = FilesSource(str(root))
        snap = source.snapshot()  # must not raise
        check_errors(snap.errors, root)
        keys = {ObjectKey.of(o) for o in snap.objects}
        assert ObjectKey("VirtualService", "shop", "good") in keys  # the good file still loads
        index = MeshIndex(snap.objects)  # nor may indexing what loaded
        index.virtual_services_for_host("good.shop.svc.cluster.local")
        for vs in index.virtual_services:
            vs.http  # noqa: B018 - the typed view is built on access
        for dr in index.destination_rules:
            dr.subsets  # noqa: B018
        source.refresh()  # and reading again (the watch's path) agrees
        assert {ObjectKey.of(o) for o in source.snapshot().objects} == keys
    finally:
        shutil.rmtree(root, ignore_errors=True)


@FUZZ
@given(st.dictionaries(st.sampled_from(["a.yaml", "b.yml", "sub.yaml", "c.json", "d.yaml"]), contents,
                       min_size=1, max_size=3))
def test_any_files_load_without_raising_and_errors_say_where(files: dict[str, bytes]) -> None:
    load(files)


@FUZZ
@given(yamlish)
def test_yaml_syntax_errors_carry_path_line_and_column(text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    try:
        list(yaml.load_all(data.decode("utf-8", "replace"), Loader=yaml.SafeLoader))
        broken = False
    except yaml.MarkedYAMLError as exc:
        # PyYAML refuses tabs YAML 1.2 allows as separation space ("0\t"); ruamel, which we use, follows
        # the spec, so only PyYAML's other syntax errors are an oracle.
        broken = exc.problem_mark is not None and "'\\t'" not in (exc.problem or "")
    except (yaml.YAMLError, ValueError, RecursionError):
        broken = False
    root = Path(tempfile.mkdtemp(prefix="meshtui-fuzz-"))
    try:
        (root / "x.yaml").write_bytes(data)
        snap = FilesSource(str(root)).snapshot()
        check_errors(snap.errors, root)
        if broken:
            located = [e for e in snap.errors if e.path and e.path.endswith("x.yaml") and e.line and e.column]
            assert located, snap.errors
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_deep_nesting_is_an_error_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "deep.yaml").write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    (tmp_path / "wide.yaml").write_text("a: &a [" + ", ".join(["*a"] * 50) + "]\n" + "b: *a\n")
    snap = FilesSource(str(tmp_path)).snapshot()
    check_errors(snap.errors, tmp_path)
    assert ObjectKey("VirtualService", "shop", "good") in {ObjectKey.of(o) for o in snap.objects}
