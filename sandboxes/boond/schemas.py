"""Boond's published RAML build as data (`boondmanager/_spec/spec.json.gz`, shipped inside the MIT-licensed PyPI
package `boondmanager-client`): its routes and request-body schemas, read without installing the package.

The schemas come from a RAML conversion and have quirks; the ones relaxed here are named in RELAXED."""
from __future__ import annotations

import gzip
import json
import zipfile
from functools import lru_cache
from pathlib import Path

SPEC_MEMBER = "boondmanager/_spec/spec.json.gz"
RELAXED = {
    "oneOf read as anyOf": "overlapping branches (webhooksBody-post `entity`: an enum string or any string) make a "
                           "strict validator refuse every listed value, e.g. \"entity\": \"delivery\"",
    "draft 7, unknown keywords ignored": "the RAML build adds `database`, `links`, `rel`, `href` and uses `id` as a "
                                         "document name; they carry no constraint",
}


@lru_cache(maxsize=4)
def load_spec(path: str) -> dict:
    """The spec from the wheel (read as a zip, never installed) or from a spec.json(.gz) file."""
    source = Path(path)
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            raw = wheel.read(SPEC_MEMBER)
    else:
        raw = source.read_bytes()
    return json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)


def relaxed(schema):
    """The schema with every `oneOf` read as `anyOf` (see RELAXED)."""
    if isinstance(schema, dict):
        return {("anyOf" if key == "oneOf" else key): relaxed(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [relaxed(item) for item in schema]
    return schema


def routes(spec: dict) -> dict[str, set[str]]:
    """RAML path (`/actions/{id}`) → its methods, upper case."""
    return {e["path"]: {m.upper() for m in e.get("methods") or {}} for e in spec["endpoints"]}


def body_schema_name(spec: dict, method: str, path: str) -> str | None:
    """The request-body schema of a route, or None."""
    for endpoint in spec["endpoints"]:
        if endpoint["path"] == path:
            return ((endpoint.get("methods") or {}).get(method.lower()) or {}).get("body_schema")
    return None


def refusals(spec: dict, schema_name: str, body) -> list[tuple[str, str, str]]:
    """What the schema refuses in a body: (JSON pointer, validator keyword, message), deepest first; [] when valid."""
    from jsonschema import Draft7Validator

    validator = Draft7Validator(relaxed(spec["schemas"][schema_name]))
    found = []
    for error in sorted(validator.iter_errors(body), key=lambda e: -len(e.absolute_path)):
        pointer = "/" + "/".join(str(p) for p in error.absolute_path)
        found.append((pointer, str(error.validator), error.message))
    return found
