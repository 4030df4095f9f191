"""meshtui: a keyboard-driven terminal UI for operating an Istio service mesh."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("meshtui-istio")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
