"""The pre-commit hook definition runs the real command on .storm files."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

from helpers import ROOT


def _hook() -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\s*-?\s*(\w+):\s*(.+)$", line)
        if m and not line.lstrip().startswith("#"):
            fields[m.group(1)] = m.group(2).strip()
    return fields


def test_pre_commit_hook_checks_storm_files_with_the_check_command() -> None:
    hook = _hook()
    assert hook["id"] == "stormproof-check"
    assert hook["language"] == "python"
    assert re.search(hook["files"], "models/ebs_2011.storm")
    assert not re.search(hook["files"], "README.md")
    entry = shlex.split(hook["entry"])
    args = re.findall(r"[\w-]+", hook["args"])
    cmd = [sys.executable, "-m", "checker", *entry[1:], *args, str(ROOT / "models" / "ebs_2011_fixed.storm")]
    assert entry[0] == "stormproof"
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    bad = subprocess.run(cmd[:-1] + [str(ROOT / "models" / "ebs_2011.storm")], capture_output=True)
    assert bad.returncode == 1
