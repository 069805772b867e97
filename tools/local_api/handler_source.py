"""Each route group's package under ``functions/``, imported in-process as Lambda would (under its function's
variables), and re-imported after an edit; its third-party packages are the host's, checked to be the versions the
zip bundles."""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import os
import sys
import threading
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

from tools import manifest

FUNCTIONS_DIR = manifest.PROJECT_DIR / "functions"


def check_host_dependencies(requirements: Path) -> None:
    """The runner imports the host's packages; they must be the versions the zip bundles."""
    wrong = []
    for line in requirements.read_text().splitlines():
        if "==" not in line or line.lstrip().startswith("#"):
            continue
        name, version = (part.strip() for part in line.split("=="))
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != version:
            wrong.append(f"{name}=={version} (host: {installed})")
    if wrong:
        raise RuntimeError(
            f"the local API imports the host's packages, which differ from {requirements.name}: "
            + ", ".join(wrong)
            + "; pin them in Pipfile's [packages] too and run `make setup`"
        )


# Imports change process-wide state (sys.modules, sys.stdout, os.environ): one at a time.
_IMPORTING = threading.Lock()


@contextlib.contextmanager
def _variables(environment: dict[str, str]) -> Iterator[None]:
    """``environment`` set in ``os.environ`` while a package is imported, then the previous values back: each route
    group's module reads its own function's variables (service name, namespace, CORS) when it is imported."""
    previous = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class HandlerSource:
    """The function's package under ``functions/``, imported as Lambda would, and re-imported after an edit.

    ``environment``: the function's variables, set while its package is imported (several route groups share this
    process; what a module reads at import is its own function's)."""

    def __init__(
        self,
        handler: str,
        stdout: io.TextIOBase,
        root: Path = FUNCTIONS_DIR,
        environment: dict[str, str] | None = None,
    ) -> None:
        module_name, _, self.entry = handler.rpartition(".")
        self.package = module_name.split(".")[0]
        self.module_name, self.stdout = module_name, stdout
        self.directory = root / self.package
        self.environment = dict(environment or {})
        self.lock = threading.Lock()
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        self.loads = 0
        self.stamp = self._stamp()
        self.module = self._import()

    def _stamp(self) -> tuple[tuple[str, int], ...]:
        return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in self.directory.rglob("*.py")))

    def _import(self) -> ModuleType:
        for name in [n for n in sys.modules if n == self.package or n.startswith(f"{self.package}.")]:
            del sys.modules[name]
        importlib.invalidate_caches()
        with _IMPORTING, _variables(self.environment):
            # Powertools binds its log handler to sys.stdout when the module is imported.
            previous, sys.stdout = sys.stdout, self.stdout
            try:
                module = importlib.import_module(self.module_name)
            finally:
                sys.stdout = previous
            service_name = os.environ.get("POWERTOOLS_SERVICE_NAME", "service_undefined")
        # ...unless a logger of the same service name existed in this process already (Powertools keeps one
        # logging.Logger per service and adds its handler once): point that handler at the function's stream too.
        service = logging.getLogger(service_name)
        for handler in service.handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.stream = self.stdout  # not setStream: it flushes the old stream, which may be closed
        self.loads += 1
        return module

    def entry_point(self) -> Any:
        """The handler function, re-imported first if a source file changed since the last request."""
        with self.lock:
            stamp = self._stamp()
            if stamp != self.stamp:
                self.module, self.stamp = self._import(), stamp
                print(f"reloaded {self.module_name} after an edit", file=sys.__stderr__, flush=True)
            return getattr(self.module, self.entry)
