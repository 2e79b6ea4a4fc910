"""Reference §9.3 test_validator.py."""

import unittest

from diaspora_stream.api import Exception, Validator  # noqa: A004

SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "number"}}}


class TestValidator(unittest.TestCase):
    def test_create_default_validator(self):
        self.assertIsInstance(Validator.from_metadata(), Validator)

    def test_create_default_validator_from_type(self):
        self.assertIsInstance(Validator.from_metadata(type="default"), Validator)

    def test_create_schema_validator(self):
        validator = Validator.from_metadata(type="schema", schema=SCHEMA)
        self.assertIsInstance(validator, Validator)

    def test_create_schema_validator_invalid_schema(self):
        with self.assertRaises(Exception):
            Validator.from_metadata(type="schema")
        with self.assertRaises(ValueError):
            Validator.from_metadata(type="schema", schema="not-an-object")

    def test_create_eventbridge_validator(self):
        pattern = {"source": ["my.app"], "detail-type": ["my-event"]}
        validator = Validator.from_metadata(type="eventbridge", schema=pattern)
        self.assertIsInstance(validator, Validator)

    def test_create_eventbridge_validator_invalid_schema(self):
        with self.assertRaises(Exception):
            Validator.from_metadata(type="eventbridge")
        with self.assertRaises(Exception):
            Validator.from_metadata(type="eventbridge", schema="not-an-object")

    def test_create_unknown_validator(self):
        with self.assertRaises(Exception):
            Validator.from_metadata(type="unknown")


if __name__ == "__main__":
    unittest.main()
