"""Benchmarks of the Diaspora Stream API (``nox -s bench``)."""
