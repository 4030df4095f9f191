"""The one garbage-collector pause and the one reconnect backoff (issue 13 point 7)."""

from __future__ import annotations

import gc
import re
import threading
from pathlib import Path

import pytest

from meshtui.util.backoff import Backoff
from meshtui.util.gcpause import gc_paused, gc_paused_call

ROOT = Path(__file__).resolve().parent.parent


def test_nested_and_concurrent_pauses_end_with_the_collector_as_it_was() -> None:
    assert gc.isenabled()
    entered, release = threading.Event(), threading.Event()

    def other_thread() -> None:
        with gc_paused():
            entered.set()
            release.wait(10)

    worker = threading.Thread(target=other_thread)
    with gc_paused():
        worker.start()
        assert entered.wait(10)
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause does not end the outer one
    assert not gc.isenabled()  # the other thread still decodes
    release.set()
    worker.join(10)
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_decorator_pauses_for_the_call_only() -> None:
    @gc_paused_call
    def enabled_inside() -> bool:
        return gc.isenabled()

    assert enabled_inside() is False and gc.isenabled()


def test_backoff_doubles_with_jitter_up_to_the_cap_and_resets() -> None:
    b = Backoff(0.5, 4.0)
    for ceiling in (0.5, 1.0, 2.0, 4.0, 4.0):
        assert ceiling / 2 <= b.next() <= ceiling
    b.reset()
    assert 0.25 <= b.next() <= 0.5


@pytest.mark.parametrize(("pattern", "home"), [(r"\bgc\.disable\(\)", "meshtui/util/gcpause.py"),
                                               (r"class Backoff\b", "meshtui/util/backoff.py")])
def test_one_helper_each(pattern: str, home: str) -> None:
    found = sorted(str(p.relative_to(ROOT)) for d in ("meshtui", "screens") for p in (ROOT / d).rglob("*.py")
                   if re.search(pattern, p.read_text()))
    assert found == [home]
