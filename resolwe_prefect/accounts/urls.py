"""Routes of the accounts app; the login paths are the ones resdk (and its e2e tests) use."""

from django.urls import path

from .views import GroupViewSet, UserViewSet, api_login

routes = [("user", UserViewSet, "user"), ("group", GroupViewSet, "group")]
urlpatterns = [
    path("saml-auth/api-login/", api_login, name="api-login"),
    path("rest-auth/login/", api_login, name="rest-auth-login"),
]
