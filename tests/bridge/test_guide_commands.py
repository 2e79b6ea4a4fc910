"""The commands of ``docs/other-languages.md`` run as written, with the double of
``pydiaspora_stream_api`` standing for the compiled binding.

Every ```` ```bash ```` block of the guide runs, on its own, in a fresh directory
(```` ```shell ```` blocks need the C++ build and are not run). The conformance suite's
command is limited to a few rules with ``-k``: CI runs it whole.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "other-languages.md"
#: Rules the suite's command of the guide runs here.
SUITE_SELECTION = "test_capabilities_declared or test_push_after_close or test_targets_restrict"


def bash_blocks() -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), re.M | re.S)


def test_the_guide_has_runnable_blocks() -> None:
    blocks = bash_blocks()
    assert len(blocks) >= 4
    assert any("--diaspora-backend binding" in block for block in blocks)
    assert any("diaspora-ctl" in block for block in blocks)


@pytest.mark.parametrize("index", range(len(bash_blocks())))
def test_guide_block_runs(index: int, tmp_path: Path, double_on_path: str) -> None:
    block = bash_blocks()[index]
    if "--pyargs diaspora_stream_conformance" in block:
        block = block.replace("--pyargs", f"-k '{SUITE_SELECTION}' --pyargs", 1)
    environment = dict(os.environ)
    environment["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), environment["PATH"]])
    result = subprocess.run(
        ["bash", "-c", f"set -euo pipefail\n{block}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
        check=False,
    )
    assert result.returncode == 0, (
        f"{block}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    if "pydiaspora_stream_api as b" in block:
        api_file, binding_file = result.stdout.split()
        assert api_file.endswith(os.path.join("diaspora_stream", "api.py"))
        assert binding_file.endswith(os.path.join("binding_double", "pydiaspora_stream_api.py"))
