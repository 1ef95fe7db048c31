"""The dask-kubernetes operator's own CRD schemas (shipped in its wheel) as validators.

The API server prunes nulls before validating, so `None` values are dropped first; fields the
schema does not know would be pruned silently by the API server, so they are reported too.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from jupyter_rapids_kf.backends.kubernetes.spec import drop_none


@functools.cache
def schema(plural: str) -> dict[str, Any]:
    import dask_kubernetes

    path = (Path(dask_kubernetes.__file__).parent / "operator/deployment/helm/dask-kubernetes-operator/crds"
            / f"{plural[:-1]}.yaml")
    crd = yaml.safe_load(path.read_text())
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def errors(plural: str, body: dict[str, Any]) -> list[str]:
    """Schema violations of `body` (empty when valid), as the API server would refuse them."""
    validator = jsonschema.Draft7Validator(schema(plural))
    return [
        f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
        for e in validator.iter_errors(drop_none(body))
    ]


def pruned(plural: str, body: dict[str, Any]) -> list[str]:
    """Paths in `body` the API server would drop because the schema does not declare them."""
    found: list[str] = []

    def walk(value: Any, node: dict[str, Any], path: str) -> None:
        if isinstance(value, dict):
            if node.get("x-kubernetes-preserve-unknown-fields"):
                return
            props = node.get("properties")
            extra = node.get("additionalProperties")
            for key, item in value.items():
                if props is not None and key in props:
                    walk(item, props[key], f"{path}.{key}")
                elif isinstance(extra, dict):
                    walk(item, extra, f"{path}.{key}")
                elif props is not None and path not in ("", ".metadata") and not path.endswith(".metadata"):
                    found.append(f"{path}.{key}")
        elif isinstance(value, list) and isinstance(node.get("items"), dict):
            for i, item in enumerate(value):
                walk(item, node["items"], f"{path}[{i}]")

    walk(drop_none(body), schema(plural), "")
    return found
