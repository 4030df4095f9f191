"""Demo manifests shipped with meshtui."""
