"""trustdesk: a calm terminal dashboard for professional coaches."""

from __future__ import annotations

import sys
from importlib.machinery import PathFinder

__version__ = "0.1.0"

# Peewee imports every PostgreSQL driver it can find when it is imported (and so do the
# playhouse modules its migrations pull in), which costs a SQLite practice about 80 ms
# and 10 MB in every process. So those modules are imported with the drivers out of
# their sight; a shared practice hands psycopg to peewee when it connects
# (store.database.load_postgres_driver). Only these imports are affected: anything else
# imports psycopg as usual.
HIDDEN_DRIVERS = ("psycopg", "psycopg2", "psycopg2cffi")
HIDDEN_FROM = frozenset({"peewee", "playhouse.postgres_ext", "playhouse.cockroachdb"})


class _HidingLoader:
    """Runs a module's code with the drivers' names set to None in sys.modules."""

    def __init__(self, loader) -> None:
        self._loader = loader

    def __getattr__(self, name: str):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        hidden = [name for name in HIDDEN_DRIVERS if name not in sys.modules]
        for name in hidden:
            sys.modules[name] = None  # `import name` raises ImportError
        try:
            self._loader.exec_module(module)
        finally:
            for name in hidden:
                if name in sys.modules and sys.modules[name] is None:
                    del sys.modules[name]


class _PeeweeWithoutDrivers:
    """A finder that answers for the modules in HIDDEN_FROM only, and stays out of the way."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name not in HIDDEN_FROM:
            return None
        spec = PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _HidingLoader(spec.loader)
        return spec


if "peewee" not in sys.modules and _PeeweeWithoutDrivers not in sys.meta_path:
    sys.meta_path.insert(0, _PeeweeWithoutDrivers)
