"""Routes of the data app: the REST resources, the ``/data/<id>/<path>`` file browser and URI resolution."""

from django.urls import path, re_path

from .browse import DataBrowseView
from .uris import ResolveUrisView, SignedDownloadView
from .views import DataViewSet, StorageViewSet

routes = [
    ("data", DataViewSet, "data"),
    ("storage", StorageViewSet, "storage"),
]
urlpatterns = [
    # resdk asks for /data/<id>, /data/<id>/<dir>, /data/<id>/<dir>/ and /data/<id>/<file>.
    re_path(r"^data/(?P<data_id>\d+)(?:/(?P<path>.*))?$", DataBrowseView.as_view(), name="data-browse"),
    # resdk.tables: POST /resolve_uris/, then cookie-less GETs of the signed URLs it returns.
    path("resolve_uris/", ResolveUrisView.as_view(), name="resolve-uris"),
    re_path(r"^signed-data/(?P<data_id>\d+)/(?P<path>.+)$", SignedDownloadView.as_view(), name="data-signed"),
]
