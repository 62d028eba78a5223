"""The one-screen map in `pipeline/__init__.py` stays true: every module it names exists, and every
package and module of the pipeline is on it."""

from __future__ import annotations

import re
from pathlib import Path

import pipeline

PACKAGE = Path(pipeline.__file__).parent
MAP = pipeline.__doc__ or ""


def named() -> set[str]:
    return set(re.findall(r"(?<![\w/.])([a-z0-9_]+(?:\.py|/(?=[\s,)])))", MAP))


def test_every_module_on_the_map_exists() -> None:
    files = {path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py")}
    folders = {path.relative_to(PACKAGE).as_posix() + "/" for path in PACKAGE.rglob("*") if path.is_dir()}
    for name in named():
        if name.endswith("/"):
            assert name in folders, f"the map names {name}, which is not a folder of pipeline/"
        else:
            assert any(f == name or f.endswith("/" + name) for f in files), f"the map names {name}, which is gone"


def test_every_package_and_top_level_module_is_on_the_map() -> None:
    on_map = named()
    packages = {p.parent.name + "/" for p in PACKAGE.glob("*/__init__.py")}
    assert packages <= on_map, f"packages missing from the map: {sorted(packages - on_map)}"
    modules = {p.name for p in PACKAGE.glob("*.py") if not p.name.startswith("__")}
    assert modules <= on_map, f"modules missing from the map: {sorted(modules - on_map)}"
    for package in packages:  # a package's own map (its docstring) names its modules
        inside = {p.name for p in (PACKAGE / package).glob("*.py") if not p.name.startswith("__")}
        own = set(re.findall(r"([a-z0-9_]+\.py)", (PACKAGE / package / "__init__.py").read_text()))
        missing = inside - own - on_map
        assert not missing, f"{package}: modules on neither map: {sorted(missing)}"
