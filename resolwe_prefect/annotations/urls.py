"""Routes of the annotations app.

``PUT`` on the ``annotation_value`` list URL (bulk upsert) is not a router
route, so the list URL is also mapped here; app ``urlpatterns`` come before
the router in ``resolwe_prefect/urls.py``.
"""

from django.urls import path

from .views import (
    AnnotationFieldViewSet,
    AnnotationGroupViewSet,
    AnnotationPresetViewSet,
    AnnotationValueViewSet,
    SetAnnotationFieldsView,
    SetAnnotationsView,
)

routes = [
    ("annotation_group", AnnotationGroupViewSet, "annotation_group"),
    ("annotation_field", AnnotationFieldViewSet, "annotation_field"),
    ("annotation_preset", AnnotationPresetViewSet, "annotation_preset"),
    ("annotation_value", AnnotationValueViewSet, "annotation_value"),
]
urlpatterns: list = [
    path(
        "api/annotation_value",
        AnnotationValueViewSet.as_view({"get": "list", "post": "create", "put": "bulk_update"}),
        name="annotation_value-bulk",
    ),
    path(
        "api/collection/<int:pk>/set_annotation_fields",
        SetAnnotationFieldsView.as_view(),
        name="collection-set-annotation-fields",
    ),
    path("api/sample/<int:pk>/set_annotations", SetAnnotationsView.as_view(), name="sample-set-annotations"),
    path("api/entity/<int:pk>/set_annotations", SetAnnotationsView.as_view(), name="entity-set-annotations"),
]
