"""End of stream and replay with the "files" driver: a simulation writes its steps and marks its
stream complete; an analysis reads it to the end, a second pass replays part of it.

Usage: python replay.py <root_path>
"""

import sys

from diaspora_stream.api import Driver, PartitionCompleted, Position


def main(root_path: str) -> None:
    driver = Driver(backend="files", options={"root_path": root_path})
    driver.create_topic("simulation", options={"num_partitions": 2})
    topic = driver.open_topic("simulation")

    # The simulation: 10 steps over two partitions, then "nothing more will come".
    producer = topic.producer("simulation")
    for step in range(10):
        producer.push({"step": step}, partition=step % 2)
    producer.mark_complete()  # flushes, then marks every partition complete
    try:
        producer.push({"step": 10}, partition=0).wait()
    except PartitionCompleted as error:
        print(f"refused: {error}")

    # The analysis: iteration ends as soon as both partitions are complete, with no timeout.
    analysis = topic.consumer("analysis")
    steps = []
    for event in analysis.events(timeout_ms=-1):
        steps.append(event.metadata["step"])
        event.acknowledge()
    print(f"analysis read steps {sorted(steps)}")
    print(f"acknowledged positions of 'analysis': {topic.acknowledged_positions('analysis')}")
    print(f"consumer names: {topic.consumer_names()}")

    # Replay: partition 1 again from its event 3, partition 0 not at all.
    analysis.seek({0: Position.END, 1: 3})
    replayed = [event.metadata["step"] for event in analysis.events(timeout_ms=-1)]
    print(f"replayed steps {replayed}")

    # A new consumer name starting at the beginning reads everything, whatever was acknowledged.
    audit = topic.consumer("audit", start=Position.BEGINNING)
    print(f"audit read {len(list(audit.events(timeout_ms=-1)))} events")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(f"Usage: {sys.argv[0]} <root_path>", file=sys.stderr)
        sys.exit(1)
    main(sys.argv[1])
