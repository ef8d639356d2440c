"""Routes of the processes app (collected by ``resolwe_prefect.urls``)."""

from .views import ProcessViewSet

routes = [("process", ProcessViewSet, "process")]
urlpatterns: list = []
