"""Import only the provider bindings the stacks use.

The prebuilt provider package's root ``__init__`` eagerly imports all ~2,100 resource submodules
(seconds of CPU, hundreds of MB), although each submodule only needs the package's ``_jsii``
assembly loader. :func:`install` registers a bare package object for the provider in
``sys.modules`` so that ``from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket`` runs just
that submodule. The resulting constructs are the same jsii classes, so the synthesized JSON is
byte-identical to an eager import (``tests/test_fast_import.py`` proves it).

The jsii runtime (node) has the same problem: requiring the provider's assembly runs its ``lib/index.js``, which
requires every resource module. :func:`install` therefore preloads ``fast_import.cjs`` into node through
``NODE_OPTIONS``, which makes each export of that index load on first use. Node starts with the first jsii import
(``import cdktf``), so ``install`` must run before it; entry points call it first.

Set ``BASELINE_EAGER_IMPORT=1`` to switch both off, e.g. to compare against a plain synth.

``make synth`` also runs Python with ``-O``: every generated binding call otherwise resolves its type hints and
runs typeguard on each argument (about half of construction time). The jsii kernel still checks every value
against the assembly, and the tests run without ``-O``, so a wrong type still fails; only the message differs.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import sys
import types
from pathlib import Path

PROVIDER_PACKAGE = "cdktf_cdktf_provider_aws"
CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache"
NODE_PRELOAD = Path(__file__).resolve().with_suffix(".cjs")


def install(provider_package: str = PROVIDER_PACKAGE) -> bool:
    """Make provider submodule imports lazy; return False when disabled or already imported. ``provider_package``
    names another prebuilt provider package of the same layout (`make migrate-check` passes CDK Terrain's)."""
    # The jsii runtime unpacks each assembly once per cache root; a persistent root keeps it warm.
    os.environ.setdefault("JSII_RUNTIME_PACKAGE_CACHE_ROOT", str(CACHE_DIR / "jsii"))
    if os.environ.get("BASELINE_EAGER_IMPORT") == "1" or provider_package in sys.modules:
        return False
    spec = importlib.util.find_spec(provider_package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{provider_package} is not installed; run `make setup`")
    _preload_into_node()
    package = types.ModuleType(provider_package)
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    package.__file__ = spec.origin
    package.__package__ = provider_package
    sys.modules[provider_package] = package
    # Module import creates millions of long-lived objects; scanning them for cycles is pure cost.
    gc.disable()
    _state["installed"] = True
    return True


def settle() -> None:
    """Call once the constructs are built: re-enable GC with everything so far exempt from scans (which also
    spares the interpreter's final collection)."""
    if _state.pop("installed", False):
        gc.freeze()
        gc.enable()


def _preload_into_node() -> None:
    quoted = '"' + str(NODE_PRELOAD).replace("\\", "\\\\").replace('"', '\\"') + '"'
    options = os.environ.get("NODE_OPTIONS", "")
    if quoted not in options:
        os.environ["NODE_OPTIONS"] = f"{options} --require {quoted}".strip()


_state: dict[str, bool] = {}
