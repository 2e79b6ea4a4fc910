"""What a newcomer meets first (issue "first contact"): the quick start and the demo, the
README's snippet, ``Driver`` as a context manager, unknown options, the library's logging, and
what ``import diaspora_stream.api`` costs."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from diaspora_stream.api import ClosedError, Driver
from diaspora_stream.api import Exception as DiasporaException

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120
    )


# ------------------------------------------------------------------ quick start and demo


def test_quickstart_announces_each_step_and_installs_no_dev_tools() -> None:
    script = (ROOT / "scripts" / "quickstart.sh").read_text(encoding="utf-8")
    lines = [line for line in script.splitlines() if line.strip() and not line.startswith("#")]
    long_steps = [
        index
        for index, line in enumerate(lines)
        if (line.startswith(".venv/bin/python -m pip install") and "--upgrade" not in line)
        or "diaspora_stream.demo" in line
    ]
    assert len(long_steps) == 2
    for index in long_steps:
        before = "\n".join(lines[max(0, index - 3) : index])
        assert re.search(r"^step ", before, re.MULTILINE), f"no message before: {lines[index]}"
    assert '".[test]"' in script and "dev]" not in script
    assert "--quiet" not in script.split("[3/4]")[1]  # pip's own progress is shown
    assert "scripts/dev-setup.sh" in script  # says where the development tools are


def test_dev_tools_are_a_separate_command_that_ci_runs() -> None:
    setup = (ROOT / "scripts" / "dev-setup.sh").read_text(encoding="utf-8")
    assert '".[dev]"' in setup
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.index("scripts/dev-setup.sh") < ci.index("nox ") < ci.index("ruff check")
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    assert not any(tool in " ".join(extras["test"]) for tool in ("ruff", "mypy", "nox"))
    assert all(any(d.startswith(tool) for d in extras["dev"]) for tool in ("ruff", "mypy", "nox"))


def test_demo_says_where_the_data_is_and_what_to_try(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "diaspora_stream.demo", "--events", "20", "--root", "data"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    topic = re.search(r"created topic '([^']+)'", run.stdout)
    assert topic
    assert f"stored under {tmp_path / 'data' / topic.group(1)}" in run.stdout
    command = re.search(r"^  (\S*diaspora-ctl topic info .*)$", run.stdout, re.MULTILINE)
    assert command, run.stdout
    # The suggested command works and shows the demo's events.
    ctl = Path(sys.executable).parent / "diaspora-ctl"
    args = command.group(1).split()[1:]
    shown = subprocess.run(
        [str(ctl), *args], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    assert "Total events: 20" in shown.stdout


# ------------------------------------------------------------------ README snippet, Driver


def _readme_snippet() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Using the API", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_readme_snippet_runs_twice_in_a_row(tmp_path: Path) -> None:
    snippet = _readme_snippet()
    outputs = []
    for _ in range(2):
        run = _python(snippet, tmp_path)
        assert run.returncode == 0, run.stderr
        assert run.stderr == ""  # nothing logged by default
        outputs.append(run.stdout.splitlines())
    # Each run reads only the event it pushed (the consumer resumes after its acknowledgements).
    assert [len(lines) for lines in outputs] == [1, 1]
    assert outputs[0][0].split()[1] == "0" or outputs[1] != outputs[0]


def test_driver_is_a_context_manager_closing_what_it_opened(tmp_path: Path) -> None:
    with Driver(backend="files", options={"root_path": str(tmp_path)}) as driver:
        driver.create_topic("t")
        topic = driver.open_topic("t")
        with topic.producer("p") as producer:
            producer.push({"a": 1})
    with pytest.raises(ClosedError):
        topic.producer("p").push({"a": 2}).wait()
    with pytest.raises(ClosedError):
        driver.open_topic("t")
    driver.close()  # again: nothing more
    with Driver(backend="files", options={"root_path": str(tmp_path)}) as again:
        assert again.open_topic("t").consumer("c").pull().wait(timeout_ms=1000).metadata == {"a": 1}


def test_closing_the_driver_stores_what_its_producers_hold_and_closes_its_consumers(
    tmp_path: Path,
) -> None:
    options = {"root_path": str(tmp_path)}
    with Driver(backend="files", options=options) as driver:
        driver.create_topic("t", options={"num_partitions": 2})
        topic = driver.open_topic("t")
        producer = topic.producer("p", batch_size=1000)  # never flushed, never closed
        for i in range(10):
            producer.push({"i": i}, b"%d" % i)
        consumer = topic.consumer("c")
    with pytest.raises(ClosedError):
        producer.push({"i": 10})
    with pytest.raises(ClosedError):
        consumer.pull()
    with Driver(backend="files", options=options) as again:
        reader = again.open_topic("t").consumer("reader")
        stored = sorted(
            (event.metadata["i"], bytes(event.data[0])) for event in reader.events(timeout_ms=1000)
        )
    assert stored == [(i, b"%d" % i) for i in range(10)]


class _ProducerThatLostEvents:
    """Stands for a producer whose close reports lost events."""

    def close(self) -> None:
        raise DiasporaException("2 events were not stored")


def test_a_failing_producer_close_still_closes_the_rest_and_is_raised() -> None:
    with Driver(backend="memory") as driver:
        driver.create_topic("t")
        topic = driver.open_topic("t")
        failing = _ProducerThatLostEvents()
        topic._producers.add(failing)  # type: ignore[arg-type]
        producer = topic.producer("p")
        consumer = topic.consumer("c")
        with pytest.raises(DiasporaException, match="not stored"):
            topic.close()
        with pytest.raises(ClosedError):
            producer.push({"a": 1})
        with pytest.raises(ClosedError):
            consumer.pull()


# ------------------------------------------------------------------ unknown options


@pytest.mark.parametrize("backend", ["memory", "files"])
def test_unknown_topic_options_are_ignored_with_a_warning(
    backend: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    options = {"root_path": str(tmp_path)} if backend == "files" else {}
    with Driver(backend=backend, options=options) as driver:
        with caplog.at_level(logging.WARNING, logger="diaspora_stream"):
            driver.create_topic("t", options={"num_partitions": 2, "retention": 5})
        assert len(driver.open_topic("t").partitions) == 2
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].name == "diaspora_stream.options"
    message = warnings[0].getMessage()
    assert "'retention'" in message and "accepted options: num_partitions" in message
    assert backend in message


def test_known_topic_options_warn_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="diaspora_stream"):
        Driver(backend="memory").create_topic("t", options={"num_partitions": 3})
    assert caplog.records == []


@pytest.mark.parametrize("backend", ["memory", "files"])
def test_unknown_driver_options_raise_naming_the_accepted_ones(
    backend: str, tmp_path: Path
) -> None:
    options = {"root_path": str(tmp_path)} if backend == "files" else {}
    with pytest.raises(DiasporaException, match=r"colour.*accepted options"):
        Driver(backend=backend, options={**options, "colour": "red"})


# ------------------------------------------------------------------ logging


def test_the_library_logs_creation_and_resumption(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="diaspora_stream"):
        with Driver(backend="files", options={"root_path": str(tmp_path)}) as driver:
            driver.create_topic("t")
            topic = driver.open_topic("t")
            with topic.producer("p") as producer:
                for index in range(3):
                    producer.push({"i": index})
            with topic.consumer("c") as consumer:
                consumer.pull().wait(timeout_ms=5000).acknowledge()
            topic.consumer("c").close()
    messages = {(r.name, r.getMessage()) for r in caplog.records}
    assert any(n == "diaspora_stream.driver" and "Driver 'files' created" in m for n, m in messages)
    assert any(n == "diaspora_stream.driver" and "Topic 't' created" in m for n, m in messages)
    assert any(
        n == "diaspora_stream.consumer" and "'c'" in m and "at event 1 of partition 0" in m
        for n, m in messages
    )


def test_the_files_backend_logs_cutting_a_torn_tail(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Driver(backend="files", options={"root_path": str(tmp_path)}) as driver:
        driver.create_topic("t")
        with driver.open_topic("t").producer("p") as producer:
            producer.push({"i": 0}, b"data")
    partition = next((tmp_path / "t" / "partitions").iterdir())
    with open(partition / "data", "ab") as file:  # a writer died after writing these bytes
        file.write(b"torn")
    with caplog.at_level(logging.INFO, logger="diaspora_stream"):
        with Driver(backend="files", options={"root_path": str(tmp_path)}) as driver:
            with driver.open_topic("t").producer("p") as producer:
                producer.push({"i": 1}, b"more")
    torn = [r for r in caplog.records if "torn tail" in r.getMessage()]
    assert len(torn) == 1 and torn[0].name == "diaspora_stream.files"
    assert "4 data bytes" in torn[0].getMessage()


def test_the_library_is_silent_by_default(tmp_path: Path) -> None:
    code = (
        "from diaspora_stream.api import Driver\n"
        "with Driver(backend='files', options={'root_path': 'd'}) as driver:\n"
        "    driver.create_topic('t')\n"
        "    topic = driver.open_topic('t')\n"
        "    with topic.producer('p') as producer:\n"
        "        producer.push({'i': 0})\n"
        "    with topic.consumer('c') as consumer:\n"
        "        consumer.pull().wait(timeout_ms=5000).acknowledge()\n"
        "    topic.consumer('c').close()\n"
    )
    run = _python(code, tmp_path)
    assert run.returncode == 0, run.stderr
    assert (run.stdout, run.stderr) == ("", "")


# ------------------------------------------------------------------ import cost


def test_importing_the_api_loads_neither_jsonschema_nor_yaml() -> None:
    code = (
        "import sys, diaspora_stream.api\n"
        "print(sorted(m for m in ('jsonschema', 'yaml', 'referencing', 'importlib.metadata')"
        " if m in sys.modules))\n"
        "from diaspora_stream.api import Validator\n"
        "Validator.from_metadata(type='schema', schema={'type': 'object'})\n"
        "print('jsonschema' in sys.modules)\n"
    )
    run = _python(code, ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:2] == ["[]", "True"]
