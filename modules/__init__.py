"""Reusable constructs, one concern per file, each with a frozen, validated config dataclass beside it.

Modules import only ``modules.*``, cdktf, constructs and the provider bindings: never the stacks, the synth
machinery, the functions or the tooling (``tests/test_architecture.py`` checks it).
"""
