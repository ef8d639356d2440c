"""Data assertion keys (README "Data assertion keys"): key -> check(ctx, data, expected) -> problem."""

from __future__ import annotations

from datetime import datetime

import files
from context import CaseContext
from markers import resolve
from matching import equal, list_matcher, short, subset


def ref_id(value):
    """A nested reference (`{"id": ...}`) or a bare id, as an int; None stays None."""
    if isinstance(value, dict):
        value = value.get("id")
    return None if value is None else int(value)


def _field(name):
    def check(ctx, data, expected):
        expected = resolve(ctx, expected)
        return (
            None
            if equal(expected, data.get(name))
            else f"{name}: expected {short(expected)}, got {short(data.get(name))}"
        )

    return check


def _status(ctx, data, expected):
    if data.get("status") == expected:
        return None
    errors = data.get("process_error") or []
    detail = f" (process_error: {short(errors, 200)})" if errors else ""
    return f"status: expected {expected!r}, got {data.get('status')!r}{detail}"


def _subset_of(name):
    def check(ctx, data, expected):
        return subset(resolve(ctx, expected), data.get(name), name)

    return check


def _absent(name):
    def check(ctx, data, expected):
        present = [key for key in expected if key in (data.get(name) or {})]
        return f"{name}: keys {present} must be absent, got {short(data.get(name))}" if present else None

    return check


def _list(name):
    return lambda ctx, data, expected: list_matcher(expected, data.get(name), name)


def _tags(ctx, data, expected):
    actual = data.get("tags") or []
    return None if sorted(actual) == sorted(expected) else f"tags: expected {expected}, got {actual}"


def _name_check(kind):
    def check(ctx, data, expected):
        name = data.get("name") or ""
        ok = {
            "startswith": lambda: name.startswith(expected),
            "endswith": lambda: name.endswith(expected),
            "length": lambda: len(name) == expected,
        }[kind]()
        shown = f"length {len(name)} ({name!r})" if kind == "length" else repr(name)
        return None if ok else f"name_{kind}: expected {expected!r}, got {shown}"

    return check


def _collection(ctx, data, expected):
    want = None if expected is None else ctx.id_of(expected)
    actual = ref_id(data.get("collection"))
    return None if actual == want else f"collection: expected {expected} ({want}), got {short(data.get('collection'))}"


def entity_annotations(ctx: CaseContext, entity_id: int) -> dict:
    """`{"group.field": value}` of one entity, through /api/annotation_value and /api/annotation_field."""
    client = ctx.client()
    values = client.list("/api/annotation_value", params={"entity": entity_id})
    result, fields = {}, {}
    for item in values:
        if ref_id(item.get("entity")) not in (None, entity_id):
            continue
        field = item.get("field")
        if not isinstance(field, dict):
            if field not in fields:
                fields[field] = client.get_json(f"/api/annotation_field/{field}")
            field = fields[field]
        group = field.get("group")
        if not isinstance(group, dict):
            group = client.get_json(f"/api/annotation_group/{group}")
        value = item.get("value")
        if isinstance(value, dict) and "value" in value and set(value) <= {"value", "label"}:
            value = value["value"]
        result[f"{group.get('name')}.{field.get('name')}"] = value
    return result


def _entity(ctx, data, expected):
    entity_id = ref_id(data.get("entity"))
    if expected is None:
        entity = data.get("entity")
        shown = {k: entity.get(k) for k in ("id", "name", "type")} if isinstance(entity, dict) else entity
        return None if entity_id is None else f"entity: expected null, got {short(shown)}"
    if entity_id is None:
        return f"entity: expected an entity ({short(expected)}), got null"
    entity = None
    for key, value in expected.items():
        if key == "exists":
            continue
        if key in ("same_as_entity_of", "not_same_as_entity_of"):
            other = ref_id(ctx.data(value).get("entity"))
            same = other == entity_id
            if key == "same_as_entity_of" and not same:
                return f"entity: expected the entity of {value} ({other}), got {entity_id}"
            if key == "not_same_as_entity_of" and same:
                return f"entity: expected a different entity than {value}'s, both are {entity_id}"
            continue
        if key == "fixture":
            if entity_id != ctx.id_of(value):
                return f"entity: expected fixture {value} ({ctx.id_of(value)}), got {entity_id}"
            continue
        entity = entity or ctx.client().get_json(f"/api/entity/{entity_id}")
        if key == "collection":
            want = None if value is None else ctx.id_of(value)
            if ref_id(entity.get("collection")) != want:
                return f"entity.collection: expected {value} ({want}), got {short(entity.get('collection'))}"
        elif key == "tags":
            if sorted(entity.get("tags") or []) != sorted(value):
                return f"entity.tags: expected {value}, got {entity.get('tags')}"
        else:
            problem = subset(resolve(ctx, value), entity.get(key), f"entity.{key}")
            if problem:
                return problem
    return None


def _annotations(ctx, data, expected):
    entity_id = ref_id(data.get("entity"))
    if entity_id is None:
        return "annotations: the object has no entity"
    return subset(resolve(ctx, expected), entity_annotations(ctx, entity_id), "annotations")


def _annotation_count(ctx, data, expected):
    entity_id = ref_id(data.get("entity"))
    if entity_id is None:
        return None if expected == 0 else "annotation_count: the object has no entity"
    actual = entity_annotations(ctx, entity_id)
    return (
        None if len(actual) == expected else f"annotation_count: expected {expected}, got {len(actual)} {short(actual)}"
    )


def _relatives(kind):
    def check(ctx, data, expected):
        found = ctx.client().list(f"/api/data/{data['id']}/{kind}")
        actual = sorted(ctx.name_of(int(item["id"])) for item in found)
        wanted = sorted(expected)
        for name in wanted:
            ctx.id_of(name)
        want_ids = sorted(ctx.id_of(n) for n in wanted)
        got_ids = sorted(int(item["id"]) for item in found)
        return None if want_ids == got_ids else f"{kind}: expected {wanted}, got {actual}"

    return check


def _children_count(ctx, data, expected):
    found = ctx.client().list(f"/api/data/{data['id']}/children")
    return None if len(found) == expected else f"children_count: expected {expected}, got {len(found)}"


def _skip(ctx, data, expected):
    return "SKIP"


def _time(value):
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


def _started_after(ctx, data, expected):
    other = ctx.data(expected)
    started, finished = _time(data.get("started")), _time(other.get("finished"))
    if started is None or finished is None:
        return f"started_after_finished_of {expected}: started={data.get('started')}, other finished={other.get('finished')}"
    return (
        None
        if started > finished
        else f"started ({data['started']}) is not after {expected} finished ({other['finished']})"
    )


def _files(ctx, data, expected):
    stored = files.tree(ctx.client(), data["id"])

    def has(path):
        return path in stored or (not path.endswith("/") and f"{path}/" in stored)

    missing = [p for p in expected.get("present") or [] if not has(p)]
    if missing:
        return f"files: missing {missing}; stored {short(sorted(stored), 300)}"
    unexpected = [p for p in expected.get("absent") or [] if has(p)]
    if unexpected:
        return f"files: {unexpected} must be absent; stored {short(sorted(stored), 300)}"
    if "exactly" in expected and sorted(expected["exactly"]) != sorted(stored):
        return f"files: expected exactly {sorted(expected['exactly'])}, got {sorted(stored)}"
    return None


def _file_contents(ctx, data, expected):
    for path, text in expected.items():
        content = files.read(ctx.client(), data["id"], path).decode("utf-8", "replace")
        if content != text:
            return f"file_contents {path}: expected {text!r}, got {short(content)}"
    return None


def _output_path(data, field):
    value = (data.get("output") or {}).get(field)
    if isinstance(value, dict):
        return value.get("file") or value.get("dir")
    return None


def _compare_file(ctx, data, path, corpus_file, compression):
    if path is None:
        return "no file in the output"
    actual = files.read(ctx.client(), data["id"], path)
    wanted = (ctx.corpus.root / "files" / corpus_file).read_bytes()
    if compression == "gzip":
        actual, wanted = files.maybe_gunzip(actual), files.maybe_gunzip(wanted)
    return (
        None
        if actual == wanted
        else f"{path} ({len(actual)} bytes) differs from files/{corpus_file} ({len(wanted)} bytes)"
    )


def _file_matches(ctx, data, spec):
    problem = _compare_file(ctx, data, _output_path(data, spec["field"]), spec["file"], spec.get("compression"))
    return f"file_matches {spec['field']}: {problem}" if problem else None


def _files_match(ctx, data, spec):
    value = (data.get("output") or {}).get(spec["field"])
    if not isinstance(value, list) or len(value) != len(spec["files"]):
        return f"files_match {spec['field']}: expected {len(spec['files'])} files, got {short(value)}"
    for item, corpus_file in zip(value, spec["files"], strict=True):
        problem = _compare_file(ctx, data, (item or {}).get("file"), corpus_file, spec.get("compression"))
        if problem:
            return f"files_match {spec['field']}: {problem}"
    return None


def _output_file_exists(ctx, data, field):
    path = _output_path(data, field)
    if path is None:
        return f"output_file_exists: output {field!r} holds no file ({short((data.get('output') or {}).get(field))})"
    response = ctx.client().data_path(data["id"], path)
    return None if response.status_code == 200 else f"output_file_exists: {path} answered HTTP {response.status_code}"


def _dir_structure(ctx, data, spec):
    root = _output_path(data, spec["field"])
    if root is None:
        return f"dir_structure: output {spec['field']!r} holds no directory"
    stored = files.tree(ctx.client(), data["id"], root)
    expected: set[str] = set()

    def flatten(node: dict, prefix: str) -> None:
        for name, child in (node or {}).items():
            if child is None:
                expected.add(prefix + str(name))
            else:
                expected.add(f"{prefix}{name}/")
                flatten(child, f"{prefix}{name}/")

    flatten(spec["tree"], "")
    missing = sorted(expected - stored)
    if missing:
        return f"dir_structure: missing {missing}; stored {sorted(stored)}"
    extra = sorted(stored - expected)
    if spec.get("exact") and extra:
        return f"dir_structure: unexpected {extra}"
    return None


def _dir_matches_archive(ctx, data, spec):
    root = _output_path(data, spec["field"])
    if root is None:
        return f"dir_matches_archive: output {spec['field']!r} holds no directory"
    wanted = files.archive_tree(ctx.corpus.root / "files" / spec["archive"])
    stored = files.tree(ctx.client(), data["id"], root)
    if set(wanted) != stored:
        return f"dir_matches_archive: archive has {sorted(set(wanted) - stored)} not stored, stored has {sorted(stored - set(wanted))} extra"
    prefix = root.strip("/") + "/"
    for path, content in wanted.items():
        if content is not None and files.read(ctx.client(), data["id"], prefix + path) != content:
            return f"dir_matches_archive: {path} differs from the archive"
    return None


def _storage(ctx, data, spec):
    for field, expected in spec.items():
        storage_id = (data.get("output") or {}).get(field)
        if not isinstance(storage_id, int):
            return f"storage {field}: output is not a Storage id ({short(storage_id)})"
        storage = ctx.client().get_json(f"/api/storage/{storage_id}")
        if not equal(resolve(ctx, expected), storage.get("json")):
            return f"storage {field}: expected {short(expected)}, got {short(storage.get('json'))}"
    return None


def _storage_count(ctx, data, expected):
    response = ctx.client().request("GET", "/api/storage", params={"data": data["id"]})
    if response.status_code != 200 or not isinstance(response.json(), list):
        return (
            f"storage_count: Storage objects of a Data object are not listed by the API (HTTP {response.status_code})"
        )
    owned = [s for s in response.json() if data["id"] in [ref_id(d) for d in s.get("data") or []]]
    return None if len(owned) == expected else f"storage_count: expected {expected}, got {len(owned)}"


DATA_KEYS = {
    "status": _status,
    **{
        k: _field(k)
        for k in (
            "name",
            "slug",
            "process_rc",
            "process_progress",
            "process_cores",
            "process_memory",
            "checksum",
            "descriptor_dirty",
            "process_resources",
        )
    },
    "name_startswith": _name_check("startswith"),
    "name_endswith": _name_check("endswith"),
    "name_length": _name_check("length"),
    "tags": _tags,
    "input": _subset_of("input"),
    "output": _subset_of("output"),
    "descriptor": _subset_of("descriptor"),
    "process": _subset_of("process"),
    "input_absent": _absent("input"),
    "output_absent": _absent("output"),
    "process_error": _list("process_error"),
    "process_warning": _list("process_warning"),
    "process_info": _list("process_info"),
    "collection": _collection,
    "entity": _entity,
    "annotations": _annotations,
    "annotation_count": _annotation_count,
    "parents": _relatives("parents"),
    "children": _relatives("children"),
    "children_count": _children_count,
    "dependency_kinds": _skip,
    "children_dependency_kinds": _skip,
    "started_after_finished_of": _started_after,
    "files": _files,
    "file_contents": _file_contents,
    "file_matches": _file_matches,
    "files_match": _files_match,
    "output_file_exists": _output_file_exists,
    "dir_structure": _dir_structure,
    "dir_matches_archive": _dir_matches_archive,
    "storage": _storage,
    "storage_count": _storage_count,
}
