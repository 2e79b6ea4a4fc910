"""Reference §9.3 test_consumer.py: a fresh topic per test."""

import time
import unittest

from _setup import BACKEND, BACKEND_ARGS, TOPIC_ARGS

from diaspora_stream.api import Consumer, Driver


class TestConsumer(unittest.TestCase):
    def setUp(self):
        self.driver = Driver(backend=BACKEND, options=BACKEND_ARGS)
        self.topic_name = f"my_topic_{time.time_ns()}"
        self.driver.create_topic(self.topic_name, options=TOPIC_ARGS)
        self.topic = self.driver.open_topic(self.topic_name)

    def tearDown(self):
        del self.topic
        del self.driver

    def test_create_consumer(self):
        consumer = self.topic.consumer("my_consumer")
        self.assertIsInstance(consumer, Consumer)
        self.assertEqual(consumer.name, "my_consumer")
        self.assertEqual(consumer.topic, self.topic)
        self.assertIsNotNone(consumer.thread_pool)
        self.assertGreater(consumer.batch_size, 0)
        self.assertGreater(consumer.max_num_batches, 0)

    def test_consume_events_iterator(self):
        producer = self.topic.producer("my_producer")
        for i in range(10):
            producer.push({"index": i, "value": f"event_{i}"}).wait(timeout_ms=100)
        producer.flush().wait(timeout_ms=1000)
        count = 0
        for event in self.topic.consumer("my_consumer"):
            if event.event_id is None:
                break
            self.assertEqual(event.event_id, count)
            self.assertIsNotNone(event.metadata)
            self.assertEqual(event.metadata, {"index": count, "value": f"event_{count}"})
            event.acknowledge()
            count += 1
        self.assertEqual(count, 10)

    def test_consume_events_pull(self):
        producer = self.topic.producer("my_producer")
        for i in range(5):
            producer.push({"index": i}).wait(timeout_ms=100)
        producer.flush().wait(timeout_ms=1000)
        consumer = self.topic.consumer("my_consumer")
        for i in range(5):
            future = consumer.pull()
            event = None
            while event is None:
                event = future.wait(timeout_ms=100)
            self.assertEqual(event.event_id, i)
            self.assertEqual(event.metadata["index"], i)
            event.acknowledge()
        last = consumer.pull().wait(timeout_ms=100)
        self.assertTrue(last is None or last.event_id is None)

    def test_custom_data_broker(self):
        producer = self.topic.producer("my_producer")
        producer.push({"id": 1}, b"hello world").wait(timeout_ms=100)
        producer.flush().wait(timeout_ms=1000)
        consumer = self.topic.consumer(
            "my_consumer",
            data_selector=lambda metadata, descriptor: descriptor,
            data_allocator=lambda metadata, descriptor: [bytearray(descriptor.size)],
        )
        event = next(iter(consumer))
        self.assertIsNotNone(event.event_id)
        self.assertIsInstance(event.data, list)
        self.assertEqual(len(event.data), 1)
        self.assertIsInstance(event.data[0], bytearray)
        self.assertEqual(event.data[0], b"hello world")


if __name__ == "__main__":
    unittest.main()
