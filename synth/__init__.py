"""Synth-time machinery used only by entry points and stacks: the lean provider import and function bundling."""
