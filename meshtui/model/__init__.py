"""Typed, I/O-free views of Istio and Kubernetes objects and the mesh index."""
