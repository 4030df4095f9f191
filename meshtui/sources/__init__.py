"""Where the mesh comes from: the Source protocol and its implementations."""
