"""One environment's application stack: composes the modules and keeps its state in the remote backend."""

from __future__ import annotations

from cdktf import TerraformStack
from constructs import Construct

from environments import EnvironmentConfig
from modules.aws_provider import RegionLockedProvider
from modules.remote_state import configure_remote_state


class ServiceStack(TerraformStack):
    """The REST API, its function, the log archive and the monitoring of one environment."""

    def __init__(self, scope: Construct, id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, id)
        self.config = config
        self.policy_exemptions = config.policy_exemptions
        self.backend = configure_remote_state(self, config=config.state, emulator=config.emulator)
        self.provider = RegionLockedProvider(self, "provider", config=config.provider)
