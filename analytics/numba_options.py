"""How our Numba code is compiled (one definition for every compiled module), and when its cache
is thrown away.

``NJIT_OPTIONS`` are the options of every ``numba.njit`` of the line scanner
(``analytics.ingest.fast_scan``), its hash (``analytics.store.xxh3``) and the metrics' kernels
(``analytics.metrics.kernels``):

* ``nogil``: the compiled code releases the GIL, so two passes run side by side on threads;
* ``cache``: the compiled code is kept in ``__pycache__`` (``make install`` fills it,
  ``analytics.warm``), so no user waits seconds for a compile. Where Numba finds no folder to
  cache in, ``njit`` with these options raises ``RuntimeError``: the scanner then fails at import
  (ingest reads every line the exact way, ``parse._line_scanner``) while the kernels compile in
  memory (``kernels._jit``);
* ``boundscheck=False``: indexes are not checked (Numba's default, written out: the loops keep
  them in bounds, and a check per byte would slow every loop).

Reading the options loads nothing: only ``forget_stale_compiled_code``, which the compiling
modules call, imports Numba.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import ModuleType
from typing import Any, Final, TypedDict


class NjitOptions(TypedDict):
    """Keyword arguments of ``numba.njit``."""

    nogil: bool
    cache: bool
    boundscheck: bool


NJIT_OPTIONS: Final[NjitOptions] = {"nogil": True, "cache": True, "boundscheck": False}


def forget_stale_compiled_code(module: ModuleType, sources: tuple[ModuleType, ...]) -> None:
    """Empty Numba's cache of ``module``'s compiled functions when one of ``sources`` (the modules
    it takes functions, constants or options from) changed since the cache was filled.

    Numba reuses cached code while the file that defines a function is unchanged: it watches
    neither the modules whose globals it froze into the code nor the options the code was
    compiled with (``NJIT_OPTIONS``, from this module). Call it at the end of ``module``, before
    anything is compiled. Best effort: where the cache cannot be read or written, Numba compiles
    without it anyway.
    """
    digest = hashlib.sha256()
    for source in sources:
        digest.update(Path(str(source.__file__)).read_bytes())
    # Numba's dispatchers of this module's functions and their caches (``Dispatcher._cache``: it
    # has no public name); every module that calls this has imported Numba already.
    from numba.core.dispatcher import Dispatcher

    caches: list[Any] = [
        value._cache  # type: ignore[attr-defined]
        for value in vars(module).values()
        if isinstance(value, Dispatcher) and value.py_func.__module__ == module.__name__
    ]
    try:
        stamp = Path(caches[0].cache_path) / f"{module.__name__}.sources.sha256"
        if stamp.exists() and stamp.read_text(encoding="ascii") == digest.hexdigest():
            return
        for cache in caches:
            cache.flush()
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest.hexdigest(), encoding="ascii")
    except (OSError, AttributeError, TypeError, IndexError):
        pass
