"""Routes of the relations app."""

from .views import RelationViewSet

routes = [("relation", RelationViewSet, "relation")]
urlpatterns: list = []
