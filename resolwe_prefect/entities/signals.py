"""What the containers' background operations tell the apps whose objects live in collections and entities.

Collections and entities know nothing of what they contain: the data app
depends on this one, not the other way round. Deleting or duplicating
containers sends these signals inside the operation's transaction, and the
app that owns the contents deletes or copies them there (the data app:
``data.deletion`` and ``data.duplication``). A receiver's exception fails
the whole operation, which then leaves nothing half done.
"""

from __future__ import annotations

from django.dispatch import Signal

#: Sent (``sender``: Collection or Entity; ``ids``) before those containers' rows are deleted; a collection's
#: entities go with it, so their contents are the collection's to delete.
containers_deleting = Signal()

#: Sent (``sender``: Collection or Entity; ``user``, ``now``, ``collections`` and ``entities``, each
#: ``{original id: copy}``) once the containers are copied; the copies of their contents go into the copies.
containers_duplicated = Signal()
