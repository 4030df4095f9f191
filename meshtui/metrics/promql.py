"""PromQL over Istio's standard metrics for one service's observed split."""

from __future__ import annotations

#: Labels that identify one row of the split (one version/workload of one destination service).
SPLIT_LABELS = ("destination_service", "destination_version", "destination_workload")


def _selector(host: str, reporter: str) -> str:
    """Label matchers for requests to ``host`` as seen by ``reporter``.

    Kiali reads the client's view from ``reporter="source"``: the client sidecar records the
    destination it chose, which is what a VirtualService's weights decide.
    """
    escaped = host.replace("\\", "\\\\").replace('"', '\\"')
    return f'reporter="{reporter}",destination_service="{escaped}"'


def _window(window: float) -> str:
    if window <= 0:
        raise ValueError(f"window must be positive, got {window}")
    return f"{max(1, round(window))}s"


def requests_query(host: str, window: float, reporter: str = "source") -> str:
    """Requests per split row over the window."""
    by = ",".join(SPLIT_LABELS)
    return (
        f"sum by ({by}) (increase(istio_requests_total{{{_selector(host, reporter)}}}"
        f"[{_window(window)}]))"
    )


def errors_query(host: str, window: float, reporter: str = "source") -> str:
    """Failed requests per split row: a 5xx response code or any Envoy response flag."""
    by = ",".join(SPLIT_LABELS)
    sel = _selector(host, reporter)
    w = _window(window)
    # The two selectors never match the same series (response_code differs), so ``or`` is
    # their union and the outer sum adds them.
    return (
        f'sum by ({by}) (increase(istio_requests_total{{{sel},response_code=~"5.."}}[{w}])'
        f' or increase(istio_requests_total{{{sel},response_code!~"5..",'
        f'response_flags!="-"}}[{w}]))'
    )

def latency_query(host: str, window: float, quantile: float, reporter: str = "source") -> str:
    """The ``quantile`` (0-1) of request duration in ms per split row, from Istio's histogram."""
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must be between 0 and 1, got {quantile}")
    by = ",".join(SPLIT_LABELS + ("le",))
    return (
        f"histogram_quantile({quantile}, sum by ({by}) (rate("
        f"istio_request_duration_milliseconds_bucket{{{_selector(host, reporter)}}}"
        f"[{_window(window)}])))"
    )


def error_groups_query(host: str, window: float, reporter: str = "source") -> str:
    """Failed requests by version, response code and response flags (the panel's error rollups)."""
    by = "destination_service,destination_version,response_code,response_flags"
    sel = _selector(host, reporter)
    w = _window(window)
    return (
        f'sum by ({by}) (increase(istio_requests_total{{{sel},response_code=~"5.."}}[{w}])'
        f' or increase(istio_requests_total{{{sel},response_code!~"5..",response_flags!="-"}}[{w}]))'
    )
