"""Reference §9.3 test_topic_handle.py."""

import unittest

from _setup import BACKEND, BACKEND_ARGS, TOPIC_ARGS

from diaspora_stream.api import Driver, TopicHandle


class TestTopicHandle(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.driver = Driver(backend=BACKEND, options=BACKEND_ARGS)
        cls.driver.create_topic("my_topic", options=TOPIC_ARGS)
        cls.topic = cls.driver.open_topic("my_topic")

    @classmethod
    def tearDownClass(cls):
        del cls.topic
        del cls.driver

    def test_topic_handle(self):
        self.assertIsInstance(self.topic, TopicHandle)
        self.assertEqual(self.topic.name, "my_topic")
        self.assertEqual(len(self.topic.partitions), 1)


if __name__ == "__main__":
    unittest.main()
