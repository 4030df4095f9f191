"""Envoy config-dump parsing and istioctl-compatible proxy-config tables (pure logic)."""
