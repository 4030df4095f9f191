"""Configuration analyzers: Istio's IST codes and meshtui's own MT findings (pure logic)."""
