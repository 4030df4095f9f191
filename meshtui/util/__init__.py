"""Small helpers below every layer (model, engine, sources, sandbox, UI may import them): no I/O,
no third-party imports. ``gcpause``: pausing the garbage collector for bulk work; ``backoff``:
exponential reconnect delays with jitter."""
