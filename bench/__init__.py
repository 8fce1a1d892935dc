"""Performance benchmarks: `python -m bench [NAME ...] [--quick]` (see docs/benchmarks.md)."""
