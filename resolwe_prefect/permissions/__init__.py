"""Resolwe's permission system: levels held by users, groups and the public user on permission groups."""
