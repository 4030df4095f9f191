"""The one path every change to the mesh takes (DESIGN.md, "Writing safely").

- ``plan``: ``ChangePlan`` — the object as read (base), the edited object, what the edit was, and
  the edit function itself so the same edit can be re-applied on top of a newer object;
  ``diff()`` renders the unified YAML diff;
- ``checks``: validation of the edited object: the CRD schema and Istio's own webhook rules
  (errors), and the analyzers run on the mesh with the edit in place (new errors block, new
  warnings ask);
- ``apply``: ``Writer`` — validate, diff, dry run at the source, write with the base as
  precondition, audit; a conflict reloads and offers ``rebase()``;
- ``audit`` / ``history``: the JSON-lines audit log under the XDG state directory;
- ``undo``: undo the last applied change with the same protections;
- ``ownership``: who else writes an object (Flagger, Argo Rollouts, Argo CD, Flux, Helm,
  ``kubectl apply``, owner references) and what will happen to a manual change;
- ``edits``: the edit functions of the writing subcommands (``shift``, ``promote``,
  ``rollback``) and how they pick a rule.

This package does I/O (through a ``Source`` and the audit file) and never imports textual.
"""
