"""An inverted index of label maps, answering "which of these carry every label of a selector".

The analyzers ask that question for every DestinationRule subset, Gateway and Sidecar; a scan
of 20,000 pods per question made ``SubsetSelectPodAnalyzer`` quadratic. Here each ``(key, value)``
pair maps to the positions of the label maps that carry it, so a selector costs about the size
of its rarest label. Answers are exactly those of :func:`meshtui.analysis.context.labels_match`
(equality per key, an empty selector matches everything); a selector value that cannot be
hashed falls back to that scan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def _labels_match(selector: Mapping[Any, Any], labels: Mapping[Any, Any]) -> bool:
    # Same test as context.labels_match (which imports this module, so it is restated here).
    return all(k in labels and labels[k] == v for k, v in selector.items())


class LabelIndex:
    """``(key, value) -> positions`` over a fixed sequence of label maps (read-only)."""

    __slots__ = ("_maps", "_postings")

    def __init__(self, label_maps: Sequence[Mapping[Any, Any]]) -> None:
        self._maps = list(label_maps)
        self._postings: dict[tuple[Any, Any], set[int]] = {}
        postings = self._postings
        for i, labels in enumerate(self._maps):
            for pair in labels.items():
                try:
                    bucket = postings.get(pair)
                except TypeError:
                    # An unhashable label value (a list in a malformed manifest) equals no
                    # hashable selector value; unhashable selectors take the scan below.
                    continue
                if bucket is None:
                    postings[pair] = {i}
                else:
                    bucket.add(i)

    def __len__(self) -> int:
        return len(self._maps)

    def matching(self, selector: Mapping[Any, Any] | None) -> list[int]:
        """Positions (ascending) of the label maps that carry every label of ``selector``."""
        if not selector:
            return list(range(len(self._maps)))
        buckets: list[set[int]] = []
        try:
            for pair in selector.items():
                bucket = self._postings.get(pair)
                if not bucket:
                    return []
                buckets.append(bucket)
        except TypeError:
            return [i for i, labels in enumerate(self._maps) if _labels_match(selector, labels)]
        buckets.sort(key=len)
        first, rest = buckets[0], buckets[1:]
        return sorted(i for i in first if all(i in b for b in rest))

    def any_match(self, selector: Mapping[Any, Any] | None) -> bool:
        """Whether some label map carries every label of ``selector``."""
        if not selector:
            return bool(self._maps)
        buckets: list[set[int]] = []
        try:
            for pair in selector.items():
                bucket = self._postings.get(pair)
                if not bucket:
                    return False
                buckets.append(bucket)
        except TypeError:
            return any(_labels_match(selector, labels) for labels in self._maps)
        buckets.sort(key=len)
        first, rest = buckets[0], buckets[1:]
        return any(all(i in b for b in rest) for i in first)
