"""A local server speaking the Kubernetes REST API, with a demo mesh and a traffic simulator."""
