"""Routes of the entities app; ``sample`` is resolwe-bio's alias of ``entity`` that resdk uses."""

from .views import CollectionViewSet, EntityViewSet

routes = [
    ("collection", CollectionViewSet, "collection"),
    ("entity", EntityViewSet, "entity"),
    ("sample", EntityViewSet, "sample"),
]
urlpatterns: list = []
