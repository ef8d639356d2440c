"""Processes: the typed, versioned YAML definitions that Data objects instantiate."""
