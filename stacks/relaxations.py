"""The one table of secure settings the emulator cannot honour, each turned off only there, with its reason: it
produces the synth policy's exemptions of the ``local`` environment and refuses each relaxation anywhere else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# An EnvironmentConfig: not imported, because it imports this table to check itself.
EnvironmentConfig = Any


@dataclass(frozen=True)
class Relaxation:
    """A secure setting the emulator cannot honour, turned off only there: ``rule`` is the synth-policy rule it
    exempts (printed with ``reason`` at every synth), ``field`` the setting, ``secure`` its value anywhere else."""

    rule: str
    field: str
    secure: Any
    reason: str
    read: Callable[[EnvironmentConfig], Any]

    def value(self, config: EnvironmentConfig) -> Any:
        try:
            return self.read(config)
        except (AttributeError, TypeError):  # a section of the wrong type is reported by its own check
            return self.secure

    def applies(self, config: EnvironmentConfig) -> bool:
        return self.value(config) != self.secure


def _groups_with_dlq(config: EnvironmentConfig) -> bool:
    return all(g.function.enable_dead_letter_queue for g in config.route_groups.values())


def _absent_or(section: str, attribute: str) -> Callable[[EnvironmentConfig], Any]:
    """An optional section's attribute, or True when the section is absent (nothing to relax)."""
    return lambda c: True if getattr(c, section) is None else getattr(getattr(c, section), attribute)


EMULATOR_RELAXATIONS = (
    Relaxation(
        "tls-deny-on-objects",
        "s3_object_level_denies",
        True,
        "the emulator applies Deny statements without their conditions",
        lambda c: c.s3_object_level_denies,
    ),
    Relaxation(
        "dead-letter-queue",
        "route_groups[*].function.enable_dead_letter_queue",
        True,
        "the emulator never invokes asynchronously and does not return the setting; the encrypted queue alone "
        "would take 26 s to create",
        _groups_with_dlq,
    ),
    Relaxation(
        "key-rotation",
        "encryption_key.enable_key_rotation",
        True,
        "the emulator never rotates a key, and the provider waits 4 s after enabling rotation (five equal reads 1 s "
        "apart)",
        lambda c: c.encryption_key.enable_key_rotation,
    ),
    Relaxation(
        "api-resource-policy",
        "api.enable_resource_policy",
        True,
        "the emulator returns a REST API's policy unescaped (the provider cannot read it back) and evaluates none; "
        "the request simulation proves prod's",
        lambda c: c.api.enable_resource_policy,
    ),
    Relaxation(
        "resource-server",
        "identity.create_resource_server",
        True,
        "the emulator cannot delete a Cognito resource server; its tokens are signed by `make token`",
        _absent_or("identity", "create_resource_server"),
    ),
    Relaxation(
        "domain-dns",
        "domain.manage_dns",
        True,
        "the emulator resolves no name and issues certificates unchecked; the provider waits 10-30 s after each "
        "Route 53 change",
        _absent_or("domain", "manage_dns"),
    ),
    Relaxation(
        "lifecycle-rules",
        "log_archive.bucket.enable_lifecycle_rules",
        True,
        "the provider waits 55 s after each lifecycle PUT (ten equal reads 5 s apart) and the emulator never runs "
        "lifecycle rules",
        lambda c: c.log_archive.bucket.enable_lifecycle_rules,
    ),
)
