"""``diaspora-ctl``: topic administration, the FIFO daemon and the forwarding daemon.

The command-line entry point is :func:`diaspora_stream.ctl.main.main`; every sub-command lives in
its own module (``topic_commands``, ``topic_info``, ``fifo``, ``forward``, ``completion``).
"""
