"""Package names resolved on first use (PEP 562), for packages whose heavy modules (pandas,
pyarrow) a web process imports the package for but never calls."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(
    module: str, names: Mapping[str, str], *, package: str | None = None
) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``module``: each name of ``names`` is imported from its
    submodule of ``package`` (``{name: submodule}``; the package is ``module`` itself unless
    given) the first time it is asked for, then kept in ``module`` like an eager import."""

    def __getattr__(name: str) -> Any:
        submodule = names.get(name)
        if submodule is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package or module}.{submodule}"), name)
        setattr(sys.modules[module], name, value)
        return value

    return __getattr__
