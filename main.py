"""Synthesizes every stack: the three environments and the bootstrap stack of the remote-state bucket."""

from __future__ import annotations

import sys

from synth import fast_import

fast_import.install()  # before `import cdktf` starts the jsii runtime (see synth/fast_import.py)

from cdktf import App  # noqa: E402

from stacks import environments, policy  # noqa: E402
from stacks.bootstrap import BootstrapStack  # noqa: E402
from stacks.bootstrap_config import bootstrap_config  # noqa: E402
from stacks.service import ServiceStack  # noqa: E402


def build_app(outdir: str | None = None) -> App:
    """Compose all stacks; raises ``ConfigError`` (naming every bad field) before anything is written."""
    configs = environments.load()
    app = App(outdir=outdir) if outdir else App()
    for config in configs.values():
        if config.deployable:
            ServiceStack(app, config.stack_name, config=config)
        else:  # a notice on stdout (the cdktf CLI prints stderr as errors)
            print(f"synth: {config.stack_name} not synthesized: set {' and '.join(config.missing_settings)}")
    bootstrap = bootstrap_config(configs)
    BootstrapStack(app, f"{bootstrap.environment.app_name}-bootstrap", config=bootstrap)
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
