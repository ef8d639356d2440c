"""Routes of the processes app (collected by ``resolwe_prefect.api.urls``)."""

from .views import ProcessViewSet

routes = [("process", ProcessViewSet, "process")]
urlpatterns: list = []
