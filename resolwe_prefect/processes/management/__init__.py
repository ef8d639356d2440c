"""Management commands of the processes app."""
