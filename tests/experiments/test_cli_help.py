"""`gan-train --help` lists the groups gan-train composes; `gan-sweep --help` every group a sweep takes."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def groups_listed(command: str) -> set[str]:
    out = subprocess.run([str(BIN / command), "--help"], capture_output=True, text=True, timeout=120, check=True).stdout
    section = out.split("== Configuration groups ==", 1)[1].split("== Config ==", 1)[0]
    return {match.group(1) for match in re.finditer(r"^([\w/]+): ", section, flags=re.MULTILINE)}


def test_gan_train_help_lists_only_its_own_groups():
    assert groups_listed("gan-train") == {"model", "dataset", "train", "eval"}


def test_gan_sweep_help_lists_the_sweep_groups_too():
    assert {"model", "dataset", "search", "storage", "launcher", "experiment"} <= groups_listed("gan-sweep")
