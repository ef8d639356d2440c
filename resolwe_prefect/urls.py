"""Every app's routes under Resolwe's paths (no trailing slash), plus the non-REST URLs and the API schema.

The one module that knows all the apps: the shared web base
(``resolwe_prefect.api``) builds the router and serves the base views, and
each app lists its own ``routes`` (router registrations) and
``urlpatterns`` (paths the router cannot express). App ``urlpatterns`` come
before the router, so that they win where both match.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from resolwe_prefect.accounts import urls as accounts_urls
from resolwe_prefect.annotations import urls as annotations_urls
from resolwe_prefect.api.routers import build_router
from resolwe_prefect.api.views import resdk_minimal_supported_version
from resolwe_prefect.data import urls as data_urls
from resolwe_prefect.descriptors import urls as descriptors_urls
from resolwe_prefect.entities import urls as entities_urls
from resolwe_prefect.processes import urls as processes_urls
from resolwe_prefect.relations import urls as relations_urls
from resolwe_prefect.tasks import urls as tasks_urls
from resolwe_prefect.uploads import urls as uploads_urls

APPS = [
    processes_urls,
    descriptors_urls,
    entities_urls,
    data_urls,
    accounts_urls,
    uploads_urls,
    annotations_urls,
    relations_urls,
    tasks_urls,
]

router = build_router([app.routes for app in APPS])

urlpatterns = [
    path("api/resdk_minimal_supported_version", resdk_minimal_supported_version, name="resdk-version"),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    *[pattern for app in APPS for pattern in app.urlpatterns],
    path("api/", include(router.urls)),
]
