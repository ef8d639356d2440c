"""Routes of the descriptors app (collected by ``resolwe_prefect.urls``)."""

from .views import DescriptorSchemaViewSet

routes = [("descriptorschema", DescriptorSchemaViewSet, "descriptorschema")]
urlpatterns: list = []
