"""The web base every app builds on: router, viewset mixins, serializer pieces, pagination, projection, errors.

It imports no app; ``resolwe_prefect.urls`` assembles the apps' routes.
"""
