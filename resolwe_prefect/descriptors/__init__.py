"""Descriptor schemas: typed metadata forms for Data, Entities and Collections."""
