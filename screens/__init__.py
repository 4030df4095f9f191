"""Textual screens of meshtui (installed as meshtui.screens)."""
