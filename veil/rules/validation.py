"""pydantic validation of policy data, with errors mapped back to file positions.

pydantic reports a ``loc`` such as ``('rules', 2, 'fields', 0, 'action',
'mask', 'char')``; discriminated unions insert the tag (``mask``) which is not
in the file, so the loc is walked against the data and unknown parts dropped.
Messages are rephrased to say what was expected and what was found.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from veil.errors import PolicyError, PolicyErrors
from veil.rules.schema import Policy
from veil.rules.source import Path, PolicySource


def policy_from_source(src: PolicySource) -> Policy:
    if not isinstance(src.data, dict):
        got = "an empty file" if src.data is None else f"a {type(src.data).__name__}"
        raise src.error((), f"expected a mapping with 'version' and 'rules', got {got}")
    try:
        return Policy.model_validate(src.data)
    except ValidationError as exc:
        errors = [_convert(src, err) for err in exc.errors(include_url=False)]
        raise (PolicyErrors(errors) if len(errors) > 1 else errors[0]) from None


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[Path, bool]:
    """The part of ``loc`` that exists in ``data``; True when all of it did."""
    path: list[str | int] = []
    node = data
    complete = True
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
        elif isinstance(part, str) and (part.startswith("function-") or part in _UNION_TAGS):
            continue  # pydantic-internal loc element
        else:
            complete = False
            path.append(part)
            node = None
    return tuple(path), complete


_UNION_TAGS = {"redact", "mask", "hash", "tokenize", "generalize", "drop", "keep", "str", "bool"}


def _describe(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return f"a {type(value).__name__}"
    return f"{value!r} ({type(value).__name__})"


def _convert(src: PolicySource, err: Any) -> PolicyError:
    loc = tuple(err.get("loc", ()))
    path, _ = _data_path(src.data, loc)
    kind = err.get("type", "")
    value = err.get("input")
    msg = err.get("msg", "invalid value")
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        name = path[-1] if path else "?"
        parent = path[:-1]
        known = _known_fields(parent, src.data)
        hint = f"; expected one of: {', '.join(known)}" if known else ""
        return src.error(path, f"unknown field '{name}'{hint}")
    if kind == "missing":
        # Point at the mapping that lacks the field; at the top level, name the field itself.
        owner = path[:-1] if path and path[-1] == loc[-1] and not _exists(src.data, path) else path
        return src.error(owner or path, f"missing required field '{loc[-1]}'")
    if kind == "union_tag_invalid":
        return src.error(path, f"unknown action {ctx.get('tag')!r}; expected one of: {ctx.get('expected_tags')}")
    if kind == "union_tag_not_found":
        return src.error(path, "expected an action name or a mapping with a 'type'")
    if kind == "literal_error":
        return src.error(path, f"expected {ctx.get('expected')}, got {_describe(value)}")
    if kind.endswith("_type") or kind.endswith("_parsing"):
        expected = kind.replace("_type", "").replace("_parsing", "")
        expected = {"model": "mapping", "dict": "mapping", "list": "list", "string": "string", "int": "integer",
                    "bool": "boolean"}.get(expected, expected)
        return src.error(path, f"expected a {expected}, got {_describe(value)}")
    if kind == "string_pattern_mismatch":
        return src.error(path, f"got {value!r}, which does not match {ctx.get('pattern')}")
    if kind in ("greater_than_equal", "less_than_equal", "too_short", "too_long"):
        return src.error(path, f"{msg[0].lower()}{msg[1:]}, got {_describe(value)}")
    if kind == "value_error":
        text = str(ctx.get("error", msg))
        return src.error(path, text)
    return src.error(path, f"{msg[0].lower()}{msg[1:]}")


def _exists(data: Any, path: Path) -> bool:
    node = data
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    return True


def _known_fields(parent: Path, data: Any) -> list[str]:
    """Field names allowed at ``parent``, found by walking the pydantic model tree."""
    from veil.rules import schema

    model: Any = schema.Policy
    node = data
    for part in parent:
        node = node[part] if node is not None and _exists(node, (part,)) else None
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = _inner_model(field.annotation, node)
        if model is None:
            return []
    if isinstance(node, dict) and "type" in node and model is None:
        return []
    return sorted(getattr(model, "model_fields", {}))


def _inner_model(annotation: Any, node: Any) -> Any:
    from typing import get_args

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg, node)
        if found is not None:
            if isinstance(node, dict) and "type" in node and "type" in getattr(found, "model_fields", {}):
                tag = found.model_fields["type"].annotation
                if node["type"] not in get_args(tag):
                    continue
            return found
    return None
