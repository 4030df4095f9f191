"""Request matching, tracing and weight algebra over the mesh model (pure logic)."""
