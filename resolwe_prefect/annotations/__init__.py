"""Annotations: typed, vocabulary-checked values on entities (Resolwe's AnnotationGroup/Field/Preset/Value)."""
