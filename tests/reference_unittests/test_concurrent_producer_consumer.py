"""Reference §9.3 test_concurrent_producer_consumer.py: the consumer thread starts first, 0.1 s
before the producers; errors of the threads are collected and reported."""

import threading
import time
import unittest

from _setup import BACKEND, BACKEND_ARGS, TOPIC_ARGS

from diaspora_stream.api import Driver

TIMEOUT_S = 30


class TestConcurrentProducerConsumer(unittest.TestCase):
    def setUp(self):
        self.driver = Driver(backend=BACKEND, options=BACKEND_ARGS)
        self.topic_name = f"my_topic_{time.time_ns()}"
        self.driver.create_topic(self.topic_name, options=TOPIC_ARGS)
        self.topic = self.driver.open_topic(self.topic_name)
        self.errors = []

    def tearDown(self):
        del self.topic
        del self.driver

    def _consume(self, expected, counter, delay_s=0.0):
        try:
            consumer = self.topic.consumer("my_consumer")
            deadline = time.monotonic() + TIMEOUT_S
            while counter[0] < expected and time.monotonic() < deadline:
                event = consumer.pull().wait(timeout_ms=100)
                if event and event.event_id is not None:
                    counter[0] += 1
                    event.acknowledge()
                    if delay_s:
                        time.sleep(delay_s)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.errors.append(error)

    def _produce(self, name, events, done):
        try:
            producer = self.topic.producer(name)
            for metadata in events:
                producer.push(metadata).wait(timeout_ms=1000)
            producer.flush().wait(timeout_ms=5000)
            done.append(name)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.errors.append(error)

    def _run(self, producers, expected, delay_s=0.0):
        counter = [0]
        done = []
        consumer = threading.Thread(target=self._consume, args=(expected, counter, delay_s))
        consumer.start()
        time.sleep(0.1)
        threads = [
            threading.Thread(target=self._produce, args=(name, events, done))
            for name, events in producers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT_S)
        consumer.join(TIMEOUT_S)
        self.assertEqual(self.errors, [])
        return counter[0], done

    def test_simultaneous_produce_consume(self):
        count, _ = self._run([("my_producer", [{"index": i} for i in range(50)])], 50)
        self.assertEqual(count, 50)

    def test_producer_faster_than_consumer(self):
        events = [{"index": i, "data": f"event_{i}"} for i in range(30)]
        count, _ = self._run([("my_producer", events)], 30, delay_s=0.01)
        self.assertEqual(count, 30)

    def test_multiple_producers_single_consumer(self):
        producers = [
            (f"producer_{p}", [{"producer": p, "index": i} for i in range(20)]) for p in range(3)
        ]
        count, done = self._run(producers, 60)
        self.assertEqual(count, 60)
        self.assertEqual(len(done), 3)


if __name__ == "__main__":
    unittest.main()
