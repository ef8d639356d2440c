"""Relations: named groupings of a collection's entities (Resolwe's ``/api/relation``)."""
