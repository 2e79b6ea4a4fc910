"""Reference §9.3 test_partition_selector.py."""

import unittest

from diaspora_stream.api import Exception, PartitionSelector  # noqa: A004


class TestPartitionSelector(unittest.TestCase):
    def test_create_default_partition_selector(self):
        self.assertIsInstance(PartitionSelector.from_metadata(), PartitionSelector)

    def test_create_default_partition_selector_from_type(self):
        selector = PartitionSelector.from_metadata(type="default")
        self.assertIsInstance(selector, PartitionSelector)

    def test_create_unknown_partition_selector(self):
        with self.assertRaises(Exception):
            PartitionSelector.from_metadata(type="unknown")


if __name__ == "__main__":
    unittest.main()
