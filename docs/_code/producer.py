"""Simple producer (quickstart): push 100 events into a topic of the "files" driver.

Usage: python producer.py <root_path> [<topic>]

The topic is created if it does not exist yet (usually it is created beforehand with
``diaspora-ctl topic create --name my_topic --driver files --driver.root_path <root_path>``).
"""

import sys

from diaspora_stream.api import Driver


def main(root_path: str, topic_name: str) -> None:
    driver = Driver(backend="files", options={"root_path": root_path})
    if not driver.topic_exists(topic_name):
        driver.create_topic(topic_name, options={"num_partitions": 1})
        print(f"created topic {topic_name} in {root_path}")

    topic = driver.open_topic(topic_name)

    producer = topic.producer()
    for i in range(100):
        # metadata: JSON text (a str is parsed) or a JSON-able object such as a dict;
        # data: any buffer (bytes, bytearray, numpy array...) or a list of buffers.
        future = producer.push('{"x": 42, "name": "bob"}', f"event {i}".encode())
        # event_id = future.wait()  # better: flush periodically, wait as late as possible
    producer.flush().wait()
    last_id = future.wait()  # already stored: returns at once
    print(f"pushed 100 events to topic {topic_name}; last event id: {last_id}")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        print(f"Usage: {sys.argv[0]} <root_path> [<topic>]", file=sys.stderr)
        sys.exit(1)
    main(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else "my_topic")
