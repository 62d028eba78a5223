"""Reading the YAML file: strict parsing, `${VAR}` from the environment, and errors as
`file:line: key.path: message`, so an editor can jump to the key to fix."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from pipeline.config.model import Config
from pipeline.errors import GatewatchError

Loaded = TypeVar("Loaded", bound=BaseModel)


def load_config(path: str | Path) -> Config:
    config = load_yaml(Path(path), Config)
    config._base_dir = Path(path).resolve().parent
    return config


def load_yaml(path: Path, model: type[Loaded]) -> Loaded:
    """Any of gatewatch's YAML files (the config, the centre's enrolled sites) as its model."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GatewatchError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GatewatchError(f"{path}: cannot read config ({exc})") from None
    try:
        raw = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader that refuses duplicate keys
    except _DuplicateKey as exc:
        raise GatewatchError(
            f"{path}:{exc.line}: key {exc.key!r} is given twice (lines {exc.first} and {exc.line}); keep one"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise GatewatchError(f"{path}:{where}: not valid YAML ({problem})") from None
    if not isinstance(raw, dict):
        keys = ", ".join(list(model.model_fields)[:3])
        raise GatewatchError(f"{path}: expected a mapping of sections ({keys}, ...) at the top level")
    raw = _expand_env(raw, path, text, [])
    _reject_non_finite(raw, path, text, [])
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise GatewatchError(_describe(path, text, exc)) from None


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: str, first: int, line: int) -> None:
        super().__init__(key)
        self.key, self.first, self.line = key, first, line


class _StrictLoader(yaml.SafeLoader):
    """YAML's own rule is that keys are unique, but PyYAML keeps the last one silently: a pasted
    second `inside:` would flip every direction, a second `rules: []` would switch all rules off."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
                line = key_node.start_mark.line + 1
                if isinstance(key, str | int | float | bool) and key in seen and key != "<<":
                    raise _DuplicateKey(str(key), seen[key], line)
                if isinstance(key, str | int | float | bool):
                    seen[key] = line
        return super().construct_mapping(node, deep=deep)  # type: ignore[arg-type]


def _reject_non_finite(value: Any, path: Path, text: str, keys: list[str]) -> None:
    """`.nan` and `.inf` are valid YAML floats but no position, time or threshold; left in, a NaN
    point passes every comparison and crashes the first snapshot drawn with it."""
    if isinstance(value, dict):
        for k, v in value.items():
            _reject_non_finite(v, path, text, [*keys, str(k)])
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _reject_non_finite(v, path, text, [*keys, str(i)])
    elif isinstance(value, float) and not math.isfinite(value):
        line = _line_of(text, keys)
        where = f"{path}:{line}" if line else str(path)
        raise GatewatchError(f"{where}: {'.'.join(keys)}: {value} is not a number gatewatch can use; give a finite one")


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand_env(value: Any, path: Path, text: str, keys: list[str]) -> Any:
    """`${VAR}` in any string takes the variable's value, so passwords and tokens can stay out of
    the file (and out of version control). A variable that is not set is an error, not ''."""
    if isinstance(value, dict):
        return {k: _expand_env(v, path, text, [*keys, str(k)]) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, path, text, [*keys, str(i)]) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            line = _line_of(text, keys)
            where = f"{path}:{line}" if line else str(path)
            raise GatewatchError(f"{where}: {'.'.join(keys)}: environment variable {name} is not set")
        return os.environ[name]

    return _ENV.sub(lookup, value)


def _describe(path: Path, text: str, exc: ValidationError) -> str:
    """One error, as `file:line: key.path: message`; the rest would scroll the useful one away.

    An unknown key goes first: a misspelt key also makes the real one "missing", and the
    spelling is what the user has to fix."""
    errors = exc.errors()
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    keys = [str(part) for part in error["loc"]]
    message = error["msg"].removeprefix("Value error, ")
    # A model validator reports at its model; its message may start with the deeper key path.
    nested = re.match(r"^([\w.-]+): (.*)$", message, re.DOTALL)
    if nested and error["type"] == "value_error":
        keys += nested.group(1).split(".")
        message = nested.group(2)
    if error["type"] == "extra_forbidden":
        message = "unknown key (check the spelling; see README for the keys each section takes)"
    elif error["type"] == "missing":
        message = "required key is missing"
    line = _line_of(text, keys)
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: {'.'.join(keys) or '(top level)'}: {message}"


def _line_of(text: str, keys: list[str]) -> int | None:
    """Line number of the deepest YAML node on the key path, so editors can jump to it."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == key), None)
            if match is None:
                break
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and key.isdigit() and int(key) < len(node.value):
            node = node.value[int(key)]
            line = node.start_mark.line + 1
        else:
            break
    return line
