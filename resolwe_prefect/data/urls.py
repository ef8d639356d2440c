"""Routes of the data app: the REST resources and the ``/data/<id>/<path>`` file browser."""

from django.urls import re_path

from .views import DataBrowseView, DataViewSet, StorageViewSet

routes = [
    ("data", DataViewSet, "data"),
    ("storage", StorageViewSet, "storage"),
]
urlpatterns = [
    # resdk asks for /data/<id>, /data/<id>/<dir>, /data/<id>/<dir>/ and /data/<id>/<file>.
    re_path(r"^data/(?P<data_id>\d+)(?:/(?P<path>.*))?$", DataBrowseView.as_view(), name="data-browse"),
]
