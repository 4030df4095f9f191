"""Envoy access-log parsing and traffic statistics (pure logic)."""
