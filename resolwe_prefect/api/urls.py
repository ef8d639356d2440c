"""Collects every app's routes under Resolwe's paths (no trailing slash)."""

from django.urls import path

urlpatterns: list = []
