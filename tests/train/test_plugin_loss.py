"""`model.module`: a loss in a script beside the user's configs, imported by name before the registry is asked.

The packaged route (an entry point of group gan_study.losses) is tests/plugins/; this is the quick one for a
module importable where the run starts: `python -m` puts the current folder first on sys.path, nothing else."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

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
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-m", "gan_study.study.cli.train", f"hydra.searchpath=[file://{plugin}]", "model=hinge",
         "dataset=triangles", "train=tiny", "eval=none", f"data_root={data_root}", f"run_dir={run_dir}"],
        capture_output=True, text=True, timeout=600, cwd=plugin, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.splitlines()[-1].startswith("completed:"), proc.stdout
    config = (run_dir / "config.yaml").read_text()
    assert "name: hinge" in config and "module: my_hinge" in config
    header, *rows = (run_dir / "metrics.csv").read_text().splitlines()
    assert header.startswith("step,") and [row.split(",")[0] for row in rows] == ["3", "6"]
