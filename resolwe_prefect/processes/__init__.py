"""Processes: the typed, versioned definitions (YAML, or Python classes read statically) that Data objects instantiate."""
