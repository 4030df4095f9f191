"""Engine for the metrics basis of the observed split: PromQL over Istio's standard metrics.

Pure: builds query strings and turns Prometheus vector results into split rows; no I/O.
"""
