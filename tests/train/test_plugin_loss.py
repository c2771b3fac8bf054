"""A new loss is one Python file plus one YAML file: prove it with a hinge loss written by this test."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

HINGE_MODULE = '''
"""The hinge loss (Lim & Ye 2017; Miyato et al. 2018), added from outside gan-study."""
import torch.nn.functional as F

from gan_study.models.losses import GANLoss, register_loss


@register_loss("hinge")
class HingeLoss(GANLoss):
    def discriminator_loss(self, nets, real, z):
        fake = nets.generator(z).detach()
        loss = F.relu(1 - nets.discriminator(real)).mean() + F.relu(1 + nets.discriminator(fake)).mean()
        return loss, {}

    def generator_loss(self, nets, real, z):
        return -nets.discriminator(nets.generator(z)).mean(), {}
'''

HINGE_YAML = '''
name: hinge
lr: 2.0e-4
beta1: 0.5
beta2: 0.999
n_disc: 1
discriminator_batchnorm: true
generator_activation: lrelu
module: my_hinge
loss_params: {}
'''


def test_a_hinge_loss_from_outside_the_package_trains_through_gan_train(tmp_path, data_root):
    plugin = tmp_path / "plugin"
    (plugin / "model").mkdir(parents=True)
    (plugin / "my_hinge.py").write_text(textwrap.dedent(HINGE_MODULE))
    (plugin / "model" / "hinge.yaml").write_text(HINGE_YAML)
    run_dir = tmp_path / "run"
    env_path = f"{plugin}"
    proc = subprocess.run(
        [sys.executable, "-m", "gan_study.study.cli.train", f"hydra.searchpath=[file://{plugin}]", "model=hinge",
         "dataset=triangles", "train=tiny", "eval=none", f"data_root={data_root}", f"run_dir={run_dir}"],
        capture_output=True, text=True, timeout=600, cwd=Path(__file__).resolve().parents[2],
        env={**__import__("os").environ, "PYTHONPATH": env_path})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.splitlines()[-1].startswith("completed:"), proc.stdout
    config = (run_dir / "config.yaml").read_text()
    assert "name: hinge" in config and "module: my_hinge" in config
    header, *rows = (run_dir / "metrics.csv").read_text().splitlines()
    assert header.startswith("step,") and [row.split(",")[0] for row in rows] == ["3", "6"]
