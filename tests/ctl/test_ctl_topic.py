"""End-to-end tests of ``diaspora-ctl`` (top level, topic create/list/info, completion), each
command in a subprocess on the files backend."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from ctl_helpers import (
    assert_one_line_error,
    create_topic,
    files_driver,
    produce,
    run_ctl,
)

from diaspora_stream.ctl.parsing import package_version


def _create(root: Path, name: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_ctl(
        "topic", "create", "--driver", "files", "--driver.root_path", str(root), "--name", name,
        *extra,
    )  # fmt: skip


def _partitions(root: Path, topic: str) -> list[str]:
    return sorted(p.name for p in (root / topic / "partitions").iterdir())


# ---------------------------------------------------------------------------- top level


def test_help_version_and_usage_errors() -> None:
    result = run_ctl("--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: diaspora-ctl <command> <action> [options]")
    assert "  topic info      " in result.stdout
    version = run_ctl("--version")
    assert (version.returncode, version.stdout.strip()) == (0, package_version())
    empty = run_ctl()
    assert "Usage: diaspora-ctl" in empty.stdout
    assert_one_line_error(empty, "missing command")
    assert_one_line_error(run_ctl("bogus"), "Unknown command: bogus")
    assert_one_line_error(run_ctl("topic"), "'topic' command requires an action")
    assert_one_line_error(run_ctl("topic", "delete"), "Unknown topic action: delete")


@pytest.mark.parametrize(
    "command",
    [["topic", "create"], ["topic", "list"], ["topic", "info"], ["fifo"], ["forward"]],
)
def test_sub_command_help_and_version(command: list[str]) -> None:
    result = run_ctl(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert f"usage: diaspora-ctl {' '.join(command)}" in result.stdout
    assert "--logging" in result.stdout
    version = run_ctl(*command, "--version")
    assert (version.returncode, version.stdout.strip()) == (0, package_version())


def test_completion_scripts() -> None:
    bash = run_ctl("completion", "bash")
    assert bash.returncode == 0
    assert "complete -F _diaspora_ctl diaspora-ctl" in bash.stdout
    assert "--partition-selector" in bash.stdout
    if shutil.which("bash"):
        check = subprocess.run(
            ["bash", "-n"], input=bash.stdout, capture_output=True, text=True, check=False
        )
        assert check.returncode == 0, check.stderr
        # Complete "diaspora-ctl topic c" in a real bash.
        script = bash.stdout + (
            "\nCOMP_WORDS=(diaspora-ctl topic c); COMP_CWORD=2; _diaspora_ctl; "
            'echo "${COMPREPLY[@]}"\n'
        )
        run = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
        assert run.stdout.split() == ["create"], run.stderr
    zsh = run_ctl("completion", "zsh")
    assert zsh.returncode == 0
    assert zsh.stdout.startswith("#compdef diaspora-ctl")
    if shutil.which("zsh"):
        check = subprocess.run(
            ["zsh", "-n"], input=zsh.stdout, capture_output=True, text=True, check=False
        )
        assert check.returncode == 0, check.stderr
    assert_one_line_error(run_ctl("completion", "fish"), "invalid choice")


# ---------------------------------------------------------------------------- create


def test_create_makes_the_topic_and_its_partitions(root: Path) -> None:
    result = _create(root, "t1", "--topic.num_partitions", "4")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # logs go to stderr
    assert "[info] Creating driver: files" in result.stderr
    assert "[info] Creating topic: t1" in result.stderr
    assert "[info] Topic 't1' created successfully" in result.stderr
    assert _partitions(root, "t1") == [f"{i:08d}" for i in range(4)]
    for component in ("validator", "serializer", "partition-selector"):
        json.loads((root / "t1" / f"{component}.json").read_text())


def test_create_with_typed_driver_options(root: Path) -> None:
    # `false` is a boolean (the reference passed the string "false" and failed).
    result = _create(
        root, "typed", "--driver.use_file_locking", "false", "--driver.flush_behavior", "on_flush"
    )
    assert result.returncode == 0, result.stderr
    assert_one_line_error(
        _create(root, "typed2", "--driver.use_file_locking", "maybe"), "use_file_locking"
    )


def test_create_merges_config_files_with_the_command_line(root: Path, tmp_path: Path) -> None:
    driver_config = tmp_path / "driver.json"
    driver_config.write_text(json.dumps({"root_path": "/nonexistent/elsewhere"}))
    topic_config = tmp_path / "topic.json"
    topic_config.write_text(json.dumps({"num_partitions": 2}))
    common = ["topic", "create", "--driver", "files", "--driver-config", str(driver_config)]
    result = run_ctl(
        *common, "--driver.root_path", str(root), "--name", "merged",
        "--topic-config", str(topic_config),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert _partitions(root, "merged") == ["00000000", "00000001"]
    # The command line wins; null deletes a key of the file (RFC 7386).
    result = run_ctl(
        *common, "--driver.root_path", str(root), "--name", "override",
        "--topic-config", str(topic_config), "--topic.num_partitions", "3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(_partitions(root, "override")) == 3
    result = run_ctl(
        *common, "--driver.root_path", str(root), "--name", "deleted",
        "--topic-config", str(topic_config), "--topic.num_partitions", "null",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(_partitions(root, "deleted")) == 1


def test_create_config_file_errors(root: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    assert_one_line_error(
        _create(root, "t", "--driver-config", str(missing)), "Failed to open config file"
    )
    assert_one_line_error(
        _create(root, "t", "--topic-config", str(missing)), "Failed to open config file"
    )
    invalid = tmp_path / "invalid.json"
    invalid.write_text("{not json")
    assert_one_line_error(_create(root, "t", "--topic-config", str(invalid)), "Invalid JSON")
    assert not (root / "t").exists()


def test_create_with_components(root: Path) -> None:
    result = _create(
        root, "checked",
        "--validator", "schema",
        "--validator.schema.type", "object",
        "--validator.schema.required", "name,",
        "--validator.type", "ignored",
        "--serializer.unused", "1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    validator = json.loads((root / "checked" / "validator.json").read_text())
    assert validator["type"] == "schema"
    assert validator["schema"] == {"type": "object", "required": ["name"]}
    assert json.loads((root / "checked" / "serializer.json").read_text()) == {"type": "default"}
    assert_one_line_error(_create(root, "bad", "--validator", "nonexistent"), "validator")


def test_create_errors(root: Path) -> None:
    assert _create(root, "dup").returncode == 0
    line = assert_one_line_error(_create(root, "dup"))
    assert line == "Error: Topic already exists: dup"
    assert_one_line_error(run_ctl("topic", "create", "--name", "x"), "--driver")
    assert_one_line_error(
        run_ctl("topic", "create", "--driver", "files", "--driver.root_path", str(root)),
        "--name",
    )
    assert_one_line_error(_create(root, "x", "--bogus", "1"), "unrecognized arguments")
    assert_one_line_error(_create(root, "x", "--logging", "loud"), "invalid choice")
    assert_one_line_error(_create(root, "x", "--topic.num_partitions", "0"), "num_partitions")
    assert_one_line_error(_create(root, "x", "--topic.last"), "unrecognized arguments")
    assert_one_line_error(
        run_ctl("topic", "create", "--driver", "nosuchbackend", "--name", "x"),
        "Failed to create driver 'nosuchbackend'",
    )


# ---------------------------------------------------------------------------- list


def test_list(root: Path) -> None:
    for name in ("topic-b", "topic-a"):
        assert _create(root, name, "--topic.num_partitions", "3").returncode == 0
    result = run_ctl("topic", "list", "--driver", "files", "--driver.root_path", str(root))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["topic-a", "topic-b"]
    assert result.stderr == ""  # nothing above debug level
    verbose = run_ctl(
        "topic", "list", "--driver", "files", "--driver.root_path", str(root), "--verbose"
    )
    lines = verbose.stdout.splitlines()
    assert len(lines) == 2
    name, text = lines[0].split(" ", 1)
    info = json.loads(text)
    assert name == "topic-a"
    assert info["num_partitions"] == 3
    assert info["validator"] == {"type": "default"}
    assert text == json.dumps(info, separators=(",", ":"), sort_keys=True)
    short = run_ctl("topic", "list", "--driver", "files", "--driver.root_path", str(root), "-v")
    assert short.stdout == verbose.stdout


def test_list_empty_root(root: Path) -> None:
    result = run_ctl("topic", "list", "--driver", "files", "--driver.root_path", str(root))
    assert (result.returncode, result.stdout) == (0, "")


# ---------------------------------------------------------------------------- info


def test_info_counts_events_and_shows_consumer_positions(root: Path) -> None:
    create_topic(root, "info", partitions=2)
    produce(root, "info", [({"i": i}, b"x" * i) for i in range(7)])
    # A consumer acknowledges the first two events of partition 0.
    driver = files_driver(root)
    topic = driver.open_topic("info")
    consumer = topic.consumer("worker", targets=[0])
    for _ in range(2):
        consumer.pull().wait(1000).acknowledge()
    consumer.close()
    topic.close()
    driver.close()
    base = ["topic", "info", "--driver", "files", "--driver.root_path", str(root)]
    result = run_ctl(*base, "info", "--consumer", "worker")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "Topic: info" in text
    assert "Partitions: 2" in text
    assert "  partition 0: 4 event(s)" in text
    assert "  partition 1: 3 event(s)" in text
    assert "Total events: 7" in text
    assert 'Validator: {"type":"default"}' in text
    assert "partition 0: 2 of 4 event(s) acknowledged, resumes at event 2" in text
    assert "partition 1: 0 of 3 event(s) acknowledged, resumes at event 0" in text
    report = json.loads(run_ctl(*base, "--name", "info", "--json").stdout)
    assert [p["events"] for p in report["partitions"]] == [4, 3]
    assert report["components"]["serializer"] == {"type": "default"}
    # files lists its consumer names: without --consumer, every name is shown.
    assert report["consumers_listed"] is True
    assert report["consumers"] == {
        "worker": [
            {"partition": 0, "consumed": 2, "events": 4, "next": 2},
            {"partition": 1, "consumed": 0, "events": 3, "next": 0},
        ]
    }
    plain = run_ctl(*base, "info")
    assert "partition 0: 2 of 4 event(s) acknowledged, resumes at event 2" in plain.stdout
    # Reading the topic left no acknowledgement behind: the worker's positions are unchanged
    # and no other consumer appeared.
    assert sorted(p.name for p in (root / "info" / "consumers").iterdir()) == ["worker"]


def test_info_errors(root: Path) -> None:
    base = ["topic", "info", "--driver", "files", "--driver.root_path", str(root)]
    assert_one_line_error(run_ctl(*base, "missing"), "Topic 'missing' does not exist")
    assert_one_line_error(run_ctl(*base), "topic name is required")
    assert_one_line_error(run_ctl(*base, "a", "--name", "b"), "two different topic names")
