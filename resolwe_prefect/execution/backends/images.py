"""Docker images: Resolwe's ``FLOW_CONTAINER_IMAGE_MAP`` and pulling through the engine.

The Docker backend asks :func:`ensure_image` before it creates a container, following
``FLOW_EXECUTOR["DOCKER_PULL_POLICY"]`` with Kubernetes' words: ``IfNotPresent`` (the default: a
missing image is pulled on first use, as Resolwe's Docker executor does), ``Never`` (a missing
image fails the run, saying so) or ``Always``. ``list_docker_images --pull``
prepares a worker ahead of time.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

PULL_POLICIES = ("Never", "IfNotPresent", "Always")


def map_image(image: str) -> str:
    """``image`` with the first matching prefix of ``FLOW_CONTAINER_IMAGE_MAP`` replaced."""
    for prefix, replacement in (getattr(settings, "FLOW_CONTAINER_IMAGE_MAP", None) or {}).items():
        if image.startswith(prefix):
            return replacement + image[len(prefix) :]
    return image


def _split(image: str) -> tuple[str, str]:
    """``(repository, tag)``; a digest stays with the repository, the default tag is ``latest``."""
    if "@" in image:
        return image, ""
    name, _, tag = image.rpartition(":")
    if name and "/" not in tag:
        return name, tag
    return image, "latest"


def pull_image(image: str, client: Any = None) -> str | None:
    """Pull ``image``; ``None`` when it worked, else the engine's reason."""
    import docker

    client = client or docker.from_env()
    repository, tag = _split(image)
    try:
        client.images.pull(repository, tag=tag or None)
    except Exception as error:  # noqa: BLE001 - the engine's reason is the caller's message
        return str(error)
    return None


def pull_policy() -> str:
    policy = str(settings.FLOW_EXECUTOR.get("DOCKER_PULL_POLICY") or "IfNotPresent")
    if policy not in PULL_POLICIES:
        raise ValueError(f"DOCKER_PULL_POLICY must be one of {', '.join(PULL_POLICIES)}, not {policy!r}.")
    return policy


def ensure_image(client: Any, image: str) -> str | None:
    """Pull ``image`` when the policy asks for it; ``None`` when it may be used, else why not."""
    policy = pull_policy()
    if policy == "Never":
        return None
    if policy == "IfNotPresent":
        try:
            client.images.get(image)
            return None
        except Exception as lookup:  # noqa: BLE001
            # Matched by what the engine says: under the flow-run worker, docker-py's ImageNotFound is
            # not always the class ``docker.errors`` exports (the Docker backend's create sees the same).
            reason = str(lookup).lower()
            if "no such image" not in reason and "not found" not in reason:
                return f"Could not look up the Docker image {image!r}: {lookup}"
    error = pull_image(image, client)
    if error is None:
        return None
    return f"Docker image {image!r} is not available on this host and could not be pulled: {error}"
