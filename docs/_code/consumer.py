"""Simple consumer (quickstart): read the events of a topic of the "files" driver.

Usage: python consumer.py <root_path> [<topic>]

The consumer is named "app". It acknowledges every 10th event, so running this script again
resumes after the last acknowledged event instead of reading the topic from the start.
"""

import sys

from diaspora_stream.api import Driver


def main(root_path: str, topic_name: str) -> None:
    driver = Driver(backend="files", options={"root_path": root_path})
    topic = driver.open_topic(topic_name)

    consumer = topic.consumer("app")
    count = 0
    while True:
        future = consumer.pull()
        event = future.wait(timeout_ms=1000)  # None: nothing new within 1 s
        if event is None:
            break
        data = b"".join(bytes(buffer) for buffer in event.data)
        print(f"event {event.event_id}: metadata={event.metadata} data={data!r}")
        count += 1
        if event.event_id % 10 == 9:
            event.acknowledge()  # events up to this one are done for consumer "app"
    print(f"consumed {count} events from topic {topic_name}")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        print(f"Usage: {sys.argv[0]} <root_path> [<topic>]", file=sys.stderr)
        sys.exit(1)
    main(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else "my_topic")
