"""Request matching, tracing and weight algebra over the mesh model (pure logic).

- ``request``: ``TraceRequest`` (host, path, method, headers, caller, gateway, port) and the
  parsers of ``-H 'k: v'`` / ``k=v,...``;
- ``match``: one request against one match block, with a reason per condition; ``regex``: RE2;
- ``select``: which VirtualServices serve a host at a gateway or in the mesh;
- ``trace``: ``trace(index, request) -> TraceResult`` (``result``), rendered by ``render``;
- ``simulate``: ``choose_destination(result, rng) -> Choice`` for the traffic simulator;
- ``weights``: integer weight algebra that keeps a rule at 100;
- ``release`` / ``edit`` (over ``rules``): operations that return a new raw VirtualService.
"""
