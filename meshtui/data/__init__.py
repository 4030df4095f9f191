"""Data files shipped with meshtui (CRD schemas, with their licence)."""
