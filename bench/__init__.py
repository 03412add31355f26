"""Benchmarks for mjgram: `python -m bench` runs the real bot against the test fakes and prints figures."""
