"""Reference §9.3 test_serializer.py."""

import unittest

from diaspora_stream.api import Exception, Serializer  # noqa: A004

SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "number"}}}


class TestSerializer(unittest.TestCase):
    def test_create_default_serializer(self):
        self.assertIsInstance(Serializer.from_metadata(), Serializer)

    def test_create_default_serializer_from_type(self):
        self.assertIsInstance(Serializer.from_metadata(type="default"), Serializer)

    def test_create_schema_serializer(self):
        serializer = Serializer.from_metadata(type="schema", schema=SCHEMA)
        self.assertIsInstance(serializer, Serializer)

    def test_create_schema_serializer_invalid_schema(self):
        with self.assertRaises(Exception):
            Serializer.from_metadata(type="schema")
        with self.assertRaises(ValueError):
            Serializer.from_metadata(type="schema", schema="not-an-object")

    def test_create_unknown_serializer(self):
        with self.assertRaises(Exception):
            Serializer.from_metadata(type="unknown")


if __name__ == "__main__":
    unittest.main()
