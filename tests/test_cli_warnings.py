"""Python's warnings never reach the user's terminal (run as a user runs meshtui: a process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

VS = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - match:
    - uri: {regex: "/[[:alpha:]]+"}
    route:
    - destination: {host: reviews}
"""


def test_a_posix_class_in_a_regex_prints_no_python_warning(tmp_path: Path) -> None:
    (tmp_path / "vs.yaml").write_text(VS)
    # "always" shows every warning Python emits, unless meshtui silences them itself.
    env = {**os.environ, "PYTHONWARNINGS": "always"}
    for argv in (["trace", "--files", str(tmp_path), "--host", "reviews.shop.svc.cluster.local", "--path", "/abc"],
                 ["analyze", "--files", str(tmp_path)]):
        done = subprocess.run([sys.executable, "-m", "meshtui", *argv], capture_output=True, text=True, env=env,
                              timeout=120, check=False)
        assert "Warning" not in done.stderr, done.stderr
        assert done.stdout
