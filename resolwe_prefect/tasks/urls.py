"""Routes of the tasks app."""

from .views import BackgroundTaskViewSet

routes = [("task", BackgroundTaskViewSet, "task")]
urlpatterns: list = []
