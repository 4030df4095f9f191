"""Configuration analyzers: Istio's IST codes and meshtui's own MT findings (pure logic).

``analyze(index, analyzers=None) -> list[Finding]`` runs the analyzers of
``meshtui.analysis.runner`` over a ``MeshIndex``; ``Finding`` carries code, name, level,
message, origin (``Kind ns/name``) and the offending field path.
"""

from meshtui.analysis.finding import Finding
from meshtui.analysis.runner import ANALYZERS, UnknownAnalyzerError, analyze, analyzer_names

__all__ = ["ANALYZERS", "Finding", "UnknownAnalyzerError", "analyze", "analyzer_names"]
