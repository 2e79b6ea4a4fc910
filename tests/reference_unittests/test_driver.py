"""Reference §9.3 test_driver.py: one driver for the whole class."""

import unittest

from _setup import BACKEND, BACKEND_ARGS, TOPIC_ARGS

from diaspora_stream.api import Driver, Exception, ThreadPool, TopicHandle  # noqa: A004


class TestDriver(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.driver = Driver(backend=BACKEND, options=BACKEND_ARGS)

    @classmethod
    def tearDownClass(cls):
        del cls.driver

    def test_driver(self):
        self.assertIsInstance(self.driver, Driver)

    def test_driver_create_open_topic(self):
        self.assertFalse(self.driver.topic_exists("my_topic"))
        with self.assertRaises(Exception):
            self.driver.open_topic("my_topic")
        self.driver.create_topic("my_topic", options=TOPIC_ARGS)
        self.assertTrue(self.driver.topic_exists("my_topic"))
        self.assertIsInstance(self.driver.open_topic("my_topic"), TopicHandle)

    def test_driver_default_thread_pool(self):
        self.assertIsInstance(self.driver.default_thread_pool, ThreadPool)

    def test_driver_make_thread_pool(self):
        self.assertIsInstance(self.driver.make_thread_pool(1), ThreadPool)

    def test_driver_list_topics(self):
        self.driver.create_topic("topic1", options=TOPIC_ARGS)
        self.driver.create_topic("topic2", options=TOPIC_ARGS)
        topics = self.driver.list_topics()
        self.assertIsInstance(topics, dict)
        self.assertIn("topic1", topics)
        self.assertIn("topic2", topics)
        for info in topics.values():
            self.assertIsInstance(info, dict)
            for key in ("validator", "serializer", "partition_selector"):
                if key in info:
                    self.assertIsInstance(info[key], dict)


if __name__ == "__main__":
    unittest.main()
