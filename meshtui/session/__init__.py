"""The application layer the UI and the CLI share, free of Textual.

- ``live_index``: a source's snapshot as a ``MeshIndex``, kept current by its watch in batches;
- ``mesh_session``: what one session of the app holds (source, live index, scope, why writes
  are refused, the latest findings) as one typed object;
- ``findings``: the analysis scheduler (debounced, off the event loop);
- ``log_session``: following a service's sidecar logs (plan, parser, ingest, follower);
- ``commands``: the one table of `:` commands;
- ``keymap``: user key bindings from the settings file.
"""
