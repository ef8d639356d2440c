"""Routes of the descriptors app (collected by ``resolwe_prefect.api.urls``)."""

from .views import DescriptorSchemaViewSet

routes = [("descriptorschema", DescriptorSchemaViewSet, "descriptorschema")]
urlpatterns: list = []
