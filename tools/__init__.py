"""Developer-side helpers: fast provider import, packaging, emulator control, local API runner, benchmarks."""
