"""Stacks: every environment's config, the service and bootstrap stacks, and the synth-time policy."""
