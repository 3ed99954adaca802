"""Assembling the app and the CLI from lists of module names: a listed module that is missing stops start-up."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from types import ModuleType


class AssemblyError(RuntimeError):
    """A module named in an assembly list does not exist or lacks what the list expects of it."""


def load(names: Iterable[str], *, listed_in: str, exposes: str | None = None) -> list[ModuleType]:
    """Import every module of an assembly list, each of which must expose `exposes` (when given)."""
    modules = []
    for name in names:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not (name == exc.name or name.startswith(exc.name + ".")):
                raise  # the module exists and one of its own imports is broken
            raise AssemblyError(f"{listed_in} names the module {name}, which does not exist") from exc
        if exposes is not None and not hasattr(module, exposes):
            raise AssemblyError(f"{listed_in} names the module {name}, which has no `{exposes}`")
        modules.append(module)
    return modules
