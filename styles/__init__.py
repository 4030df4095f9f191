"""Textual CSS of meshtui (installed as meshtui.styles)."""
