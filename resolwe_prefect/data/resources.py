"""Resource limits of a Data object, with Resolwe's precedence.

Data.process_resources > FLOW_PROCESS_RESOURCE_OVERRIDES[resource][slug] >
process requirements.resources > FLOW_PROCESS_RESOURCE_DEFAULTS > fallback,
then capped by FLOW_PROCESS_MAX_CORES / FLOW_PROCESS_MAX_MEMORY.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

FALLBACK = {"cores": 1, "memory": 4096, "storage": 10}
RESOURCE_KEYS = ("cores", "memory", "storage")


def validate_resource_overrides(value: Any) -> list[str]:
    """Check a ``process_resources`` body the way Resolwe's JSON schema does."""
    if value in (None, {}):
        return []
    if not isinstance(value, dict):
        return [f"{value!r} is not of type 'object'"]
    errors = []
    unexpected = [key for key in value if key not in RESOURCE_KEYS]
    if unexpected:
        listed = ", ".join(repr(key) for key in unexpected)
        verb = "was" if len(unexpected) == 1 else "were"
        errors.append(f"Additional properties are not allowed ({listed} {verb} unexpected)")
    for key in RESOURCE_KEYS:
        if key in value and (not isinstance(value[key], int) or isinstance(value[key], bool) or value[key] < 0):
            errors.append(f"{value[key]!r} is not a valid value for '{key}': a non-negative integer is required")
    return errors


def resource_limits(process, process_resources: dict | None) -> dict[str, Any]:
    """Compute the cores, memory, storage and network a program may use."""
    limits: dict[str, Any] = dict(FALLBACK)
    limits.update({k: v for k, v in settings.FLOW_PROCESS_RESOURCE_DEFAULTS.items() if k in RESOURCE_KEYS})
    declared = (process.requirements or {}).get("resources", {}) or {}
    limits.update({k: v for k, v in declared.items() if k in RESOURCE_KEYS})
    for key in RESOURCE_KEYS:
        per_slug = settings.FLOW_PROCESS_RESOURCE_OVERRIDES.get(key, {})
        if process.slug in per_slug:
            limits[key] = per_slug[process.slug]
    limits.update({k: v for k, v in (process_resources or {}).items() if k in RESOURCE_KEYS})
    limits["cores"] = min(int(limits["cores"]), settings.FLOW_PROCESS_MAX_CORES)
    limits["memory"] = min(int(limits["memory"]), settings.FLOW_PROCESS_MAX_MEMORY)
    limits["network"] = bool(declared.get("network", False))
    limits["secrets"] = bool(declared.get("secrets", False))
    return limits
