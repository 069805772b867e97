"""Synthesizes every stack: the three environments and the bootstrap stack of the remote-state bucket."""

from __future__ import annotations

import sys

from cdktf import App

import environments
from modules import policy
from modules.bootstrap_stack import BootstrapStack
from modules.service_stack import ServiceStack
from tools import fast_import


def build_app(outdir: str | None = None) -> App:
    """Compose all stacks; raises ``ValueError`` (naming the field) before anything is written."""
    configs = environments.load()
    app = App(outdir=outdir) if outdir else App()
    for config in configs.values():
        ServiceStack(app, config.stack_name, config=config)
    bootstrap = configs[environments.bootstrap_environment()]
    BootstrapStack(app, f"{bootstrap.app_name}-bootstrap", config=bootstrap)
    policy.enforce(app)
    return app


def main() -> int:
    try:
        app = build_app()
    except ValueError as error:
        print(f"synth refused: {error}", file=sys.stderr)
        return 2
    app.synth()
    fast_import.settle()
    return 0


if __name__ == "__main__":
    sys.exit(main())
