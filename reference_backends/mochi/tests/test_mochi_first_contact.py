"""What a newcomer meets first on mochi: ``--help``, the configuration and group files, unknown
topic options, and the log line of a client reconnecting to a member that moved."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from diaspora_stream.api import Driver
from mochi_service import RunningService

from diaspora_stream_mochi import cli
from diaspora_stream_mochi.config import ServerConfig
from diaspora_stream_mochi.errors import ConfigurationError


def test_help_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "``" not in text and ":data:" not in text
    for word in ("start", "status", "stop", "group file", "mochi-service.json"):
        assert word in text


def test_a_group_file_that_is_the_configuration_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "mochi.json"
    config.write_text(json.dumps({"root": "data", "group_file": "mochi.json"}))
    with pytest.raises(ConfigurationError, match="configuration file itself"):
        ServerConfig.load(config)
    assert json.loads(config.read_text()) == {"root": "data", "group_file": "mochi.json"}


def test_readme_and_docs_name_the_same_files() -> None:
    root = Path(__file__).resolve().parents[3]
    for page in ("README.md", "docs/backends/mochi.md", "reference_backends/mochi/README.md"):
        text = (root / page).read_text(encoding="utf-8")
        assert "--config mochi-service.json" in text, page
        assert '"group_file": "mochi-group.json"' in text, page
        assert 'group.json"' not in text.replace("mochi-group.json", ""), page


def test_unknown_topic_options_warn(
    mochi_service: RunningService, caplog: pytest.LogCaptureFixture
) -> None:
    with Driver(backend="mochi", options=mochi_service.options()) as driver:
        name = f"first-contact-{os.getpid()}"
        with caplog.at_level(logging.WARNING, logger="diaspora_stream"):
            driver.create_topic(name, options={"type": "memory", "retention": 1})
        assert driver.topic_exists(name)
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(messages) == 1
    assert "'retention'" in messages[0] and "num_partitions, type" in messages[0]


def test_a_reconnection_to_a_moved_member_is_logged(
    make_service: Callable[..., RunningService], caplog: pytest.LogCaptureFixture
) -> None:
    service = make_service()
    driver = Driver(backend="mochi", options=service.options())
    driver.create_topic("moving")
    service.stop()
    service.start()  # on another port: the group file has the new address
    with caplog.at_level(logging.INFO, logger="diaspora_stream"):
        assert driver.topic_exists("moving")
    moved = [r for r in caplog.records if r.name == "diaspora_stream.mochi"]
    assert any("reconnecting" in r.getMessage() for r in moved), caplog.text
    driver.close()
