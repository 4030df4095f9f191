"""The performance benchmark of DESIGN.md: ``python -m meshtui.bench [--quick] [--runs K]``.

It starts ``meshtui sandbox --scale N`` in a subprocess (so the server's CPU time and memory are
not counted as the client's) and measures, each figure as the median of several runs with min
and max, next to its DESIGN.md target:

- time and peak RSS from process start to a fully loaded mesh index in the app, for N = 1,000
  and 5,000 services (``meshtui.bench.load``), next to ``kubectl get … -A -o json`` of the
  same kinds from the same server in the same run (``meshtui.bench.kubectl``);
- the worst event-loop stall while the big mesh loads (a 2 ms ticker on the app's loop);
- watch latency: ``kubectl patch`` of a weight to the route tree showing it, and a
  filter keystroke to the repainted 5,000-row ``:svc`` table (``meshtui.bench.ui``);
- cold start of ``meshtui --demo`` to its first screen, in tmux (``meshtui.bench.coldstart``);
- access-log parser throughput and config-dump parse time (``meshtui.bench.engine``, which
  calls into ``meshtui.accesslog.bench`` and ``meshtui.envoy.bench``).

Each measured client runs in a fresh child process so that its peak RSS and its garbage are its
own. Nothing here is imported by the rest of meshtui.
"""
