"""benchmarks/gpu_check.py --device cpu --quick: the GPU check's code paths run on the CPU, so the script never rots."""
from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
PAPER_LOSSES = ["began", "dragan", "lsgan", "mm_gan", "ns_gan", "vae", "wgan", "wgan_gp"]  # the script's default


def table(text: str, header_start: str) -> list[list[str]]:
    """The rows of the markdown table whose header begins with `header_start`, as cells."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def number(cell: str) -> float:
    return float(cell.rstrip("×"))


def test_the_quick_cpu_check_prints_every_loss_finite_and_a_projection_with_its_arithmetic():
    done = subprocess.run([sys.executable, "benchmarks/gpu_check.py", "--device", "cpu", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    header, _, *rows = table(out, "| loss | shape |")
    assert header == ["loss", "shape", "reference loop img/s", "fp32 img/s", "TF32 img/s", "bf16 img/s",
                      "fp32 speed-up", "bf16 speed-up", "finite"]
    assert sorted(row[0] for row in rows) == PAPER_LOSSES and {row[1] for row in rows} == {"1×28×28"}
    for row in rows:
        rates = [number(cell) for cell in row[2:6]]
        assert all(math.isfinite(rate) and rate > 0 for rate in rates), row
        base, fp32 = rates[0], rates[1]  # printed rounded to 0.1 images/s
        assert (fp32 - 0.05) / (base + 0.05) - 0.005 <= number(row[6]) <= (fp32 + 0.05) / (base - 0.05) + 0.005, row
        assert row[8] == "yes"

    assert re.search(r"^resume \(.*\): bitwise equal$", out, re.MULTILINE)  # claimed on the CPU
    fid = re.search(r"^FID-10k: ([0-9.]+) s per evaluation", out, re.MULTILINE)
    assert fid and float(fid.group(1)) > 0

    header, _, *rows = table(out, "| K |")
    assert [row[0] for row in rows] == ["1", "2"] and len(header) == 4
    assert all(number(cell) > 0 for row in rows for cell in row[1:])
    assert rows[0][3] == "1.00×"

    numeral = r"([0-9.e+-]+)"
    runs = re.findall(rf"^  (\w+) on (\w+): ([0-9,]+) / \({numeral} steps/s × {numeral} packing by (\w+)\) "
                      rf"\+ (\d) × {numeral} s FID = (\d+) s per run", out, re.MULTILINE)
    assert len(runs) == 2 * len(PAPER_LOSSES)
    for _, dataset, steps, rate, gain, _, evaluations, fid_s, seconds in runs:
        assert steps == "15,625" and evaluations == "5"  # the paper's MNIST / Fashion-MNIST protocol
        expected = 15625 / (float(rate) * float(gain)) + 5 * float(fid_s)
        assert int(seconds) == pytest.approx(expected, rel=2e-3, abs=1)  # printed to 4 significant digits
    total = re.search(r"^  total: ([0-9.]+) device-hours", out, re.MULTILINE)
    assert float(total.group(1)) == pytest.approx(100 * sum(int(run[8]) for run in runs) / 3600, rel=0.01)
