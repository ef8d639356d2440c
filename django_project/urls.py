"""Root URL layout: Resolwe's REST API under /api, plus the non-REST paths resdk uses."""

from django.urls import include, path

urlpatterns = [
    path("", include("resolwe_prefect.urls")),
]

handler400 = "resolwe_prefect.api.handlers.bad_request"
handler403 = "resolwe_prefect.api.handlers.permission_denied"
handler404 = "resolwe_prefect.api.handlers.not_found"
handler500 = "resolwe_prefect.api.handlers.server_error"
