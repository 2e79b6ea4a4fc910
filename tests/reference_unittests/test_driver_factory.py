"""Reference §9.3 test_driver_factory.py: backends are found by name, unknown ones raise."""

import unittest

from _setup import BACKEND, BACKEND_ARGS

from diaspora_stream.api import Driver, Exception  # noqa: A004 - the reference's name


class TestDriverFactory(unittest.TestCase):
    def test_create_driver(self):
        self.assertIsInstance(Driver(backend=BACKEND, options=BACKEND_ARGS), Driver)

    def test_create_driver_unknown_library(self):
        with self.assertRaises(Exception):
            Driver(backend="unknown:libunknown.so")

    def test_create_driver_unknown_name(self):
        with self.assertRaises(Exception):
            Driver(backend="unknown:libdiaspora-simple-backend.so")


if __name__ == "__main__":
    unittest.main()
