"""Reference §9.3 test_producer.py."""

import unittest

from _setup import BACKEND, BACKEND_ARGS, TOPIC_ARGS

from diaspora_stream.api import Driver, Ordering


class TestProducer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.driver = Driver(backend=BACKEND, options=BACKEND_ARGS)
        cls.driver.create_topic("my_topic", options=TOPIC_ARGS)
        cls.topic = cls.driver.open_topic("my_topic")

    @classmethod
    def tearDownClass(cls):
        del cls.topic
        del cls.driver

    def test_create_producer(self):
        pool = self.driver.default_thread_pool
        producer = self.topic.producer(
            "my_producer",
            batch_size=32,
            max_num_batches=4,
            thread_pool=pool,
            options={},
            ordering=Ordering.Loose,
        )
        self.assertEqual(producer.name, "my_producer")
        self.assertEqual(producer.topic, self.topic)
        self.assertEqual(producer.thread_pool, pool)
        self.assertEqual(producer.batch_size, 32)
        self.assertEqual(producer.max_num_batches, 4)

    def test_produce_events_without_data(self):
        producer = self.topic.producer("my_producer")
        for i in range(10):
            producer.push({"i": i}).wait(timeout_ms=100)
        producer.flush().wait(timeout_ms=1000)


if __name__ == "__main__":
    unittest.main()
