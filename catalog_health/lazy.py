"""Package names resolved on first use (PEP 562), for packages whose heavy modules (pandas,
pyarrow) a web process imports the package for but never calls."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: each name of ``names`` is imported from
    its submodule (``{name: submodule}``) the first time it is asked for, then kept in the
    package like an eager import."""

    def __getattr__(name: str) -> Any:
        submodule = names.get(name)
        if submodule is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{submodule}"), name)
        setattr(importlib.import_module(package), name, value)
        return value

    return __getattr__
