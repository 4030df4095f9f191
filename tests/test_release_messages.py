"""Release errors read the way the user typed the split, never as a Python dict (issue 12)."""

from __future__ import annotations

import pytest
from test_routing_common import sample

from meshtui.routing import release
from meshtui.routing.rules import ReleaseError


def test_a_split_that_does_not_sum_to_100_names_the_weights_without_a_dict() -> None:
    vs = next(o for o in sample("bookinfo", "networking", "virtual-service-reviews-80-20.yaml")
              if o["metadata"]["name"] == "reviews")
    with pytest.raises(ReleaseError) as caught:
        release.ab_split(vs, {"v1": 60, "v2": 30})
    message = str(caught.value)
    assert "v1=60 v2=30" in message
    assert "sums to 90" in message
    assert "{" not in message and "'" not in message
