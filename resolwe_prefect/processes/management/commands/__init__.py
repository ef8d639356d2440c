"""``register``: load process and descriptor-schema definitions into the database."""
