"""Non-REST upload paths; ``/api/upload_config`` is resdk's spelling, ``/api/upload/config`` Resolwe's."""

from django.urls import path

from .views import UploadView, upload_config, upload_credentials

routes: list = []
urlpatterns = [
    path("upload/", UploadView.as_view(), name="upload"),
    path("api/upload_config", upload_config, name="upload-config"),
    path("api/upload/config", upload_config, name="upload-config-resolwe"),
    path("api/upload/credentials", upload_credentials, name="upload-credentials"),
]
