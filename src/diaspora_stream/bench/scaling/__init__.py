"""Scaling benchmark: how the cost of a backend grows with partitions, producer processes,
events in a topic and events read.

``python -m diaspora_stream.bench.scaling [--backend files] [--repeat 3] [--quick]
[--json PATH] [--plots DIR]`` measures, on the ``files`` backend by default:

1. producer throughput (events/s and MB/s, events of 64 B metadata and 1 KiB data) against the
   number of partitions (1, 4, 16, 64; one producer process) and against the number of producer
   processes pushing into one topic at once (1, 2, 4; one partition);
2. the time a fresh process takes to open a topic and get its first event, and to resume a
   consumer by name (after an event it acknowledged in the middle of the topic) and get the next
   one, with 10^4 to 10^7 events in the topic;
3. the peak resident memory of a fresh process whose consumer reads 10^4 to 10^6 events with
   1 KiB of data each.

Each figure is the median of ``--repeat`` runs. Everything is written in a temporary directory
(``"{tmp}"`` in ``--backend-options``) removed at the end. See ``--help`` for the options.
"""
