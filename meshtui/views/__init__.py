"""View-models: pure functions and plain data that turn the mesh into what widgets draw
(table rows, tree labels, split-panel rows, form defaults). No Textual here."""
