"""`eval.bn_stats=recompute`: G's batch-norm statistics re-estimated for evaluation only (standing statistics).

Closed form of the re-estimate, training and checkpoints untouched (bit for bit, also across a resume), and on a
short digits run the eval-mode samples are no longer flat."""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gan_study.study.config import ConfigError, validate
from gan_study.study.train import run_training
from gan_study.study.train.checkpoint import load_checkpoint
from gan_study.study.train.standing_stats import recompute_batchnorm, standing_statistics
from tests.conftest import compose

EPS = 1e-5


def small_generator() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6, eps=EPS, momentum=1e-3), nn.ReLU(),
                         nn.Linear(6, 3), nn.BatchNorm1d(3, eps=EPS, momentum=1e-3))


def test_recomputed_statistics_are_the_average_of_the_batch_statistics():
    """running mean = mean over batches of the batch means; running var = mean of the unbiased batch variances,
    each layer's input computed by hand with the previous layer normalised by its batch statistics."""
    net = small_generator()
    batches = [torch.rand(8, 4, generator=torch.Generator().manual_seed(i)) * 2 - 1 for i in range(5)]
    draws = iter(batches)
    net.eval()
    recompute_batchnorm(net, lambda: net(next(draws)), len(batches))
    assert not net.training and net[1].momentum == net[4].momentum == 1e-3  # mode and decay put back

    lin1, bn1, _, lin2, bn2 = net
    with torch.no_grad():
        first = [lin1(z) for z in batches]
        hidden = [torch.relu((x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + EPS) * bn1.weight + bn1.bias)
                  for x in first]
        second = [lin2(h) for h in hidden]
    for layer, inputs in ((bn1, first), (bn2, second)):
        expected_mean = torch.stack([x.mean(0) for x in inputs]).mean(0)
        expected_var = torch.stack([x.var(0, unbiased=True) for x in inputs]).mean(0)
        torch.testing.assert_close(layer.running_mean, expected_mean, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(layer.running_var, expected_var, rtol=1e-5, atol=1e-6)
        assert int(layer.num_batches_tracked) == len(batches)


def test_standing_statistics_put_every_buffer_back():
    net = small_generator()
    net(torch.rand(8, 4))  # running statistics away from their initial values
    before = {name: buffer.clone() for name, buffer in net.named_buffers()}
    with standing_statistics(net, lambda: net(torch.rand(8, 4) * 3), 4):
        assert not torch.equal(net[1].running_mean, before["1.running_mean"])
    for name, buffer in net.named_buffers():
        assert torch.equal(buffer, before[name]), name


def digits(root: Path, *overrides: str):
    return validate(compose(["dataset=digits", "model=lsgan", "train=tiny", "eval=none", f"data_root={root}",
                             "conditional.enabled=true", "train.sample_grid=40", "train.batch_size=32",
                             "eval.bn_stats_batches=20", *overrides]))


def losses(run_dir: Path) -> str:
    return "\n".join(",".join(line.split(",")[:1] + line.split(",")[3:])  # without wall time and images/s
                     for line in (run_dir / "losses.csv").read_text().splitlines())


def test_training_and_its_checkpoint_are_unaffected(tmp_path):
    keep = "train.keep_checkpoint=true"
    run_training(digits(tmp_path / "data", keep), tmp_path / "running")
    run_training(digits(tmp_path / "data", keep, "eval.bn_stats=recompute"), tmp_path / "recompute")
    a = load_checkpoint(tmp_path / "running" / "checkpoint.pt", torch.device("cpu"))
    b = load_checkpoint(tmp_path / "recompute" / "checkpoint.pt", torch.device("cpu"))
    for part in ("generator", "discriminator", "optimizer_g", "optimizer_d"):
        flat_a, flat_b = _tensors(a[part]), _tensors(b[part])
        assert flat_a.keys() == flat_b.keys() and flat_a
        for key in flat_a:
            assert torch.equal(flat_a[key], flat_b[key]), f"{part}.{key} differs"
    assert any(key.endswith("running_mean") for key in a["generator"])  # the BN buffers were compared
    assert losses(tmp_path / "running") == losses(tmp_path / "recompute")
    assert a["config"]["eval"].keys() == {"seed", "batch_size", "metrics"}  # the paper's runs recorded as before
    assert b["config"]["eval"]["bn_stats"] == "recompute"


def _tensors(tree, prefix: str = "") -> dict[str, torch.Tensor]:
    if isinstance(tree, torch.Tensor):
        return {prefix: tree}
    if isinstance(tree, dict):
        return {k: v for key, item in tree.items() for k, v in _tensors(item, f"{prefix}{key}.").items()}
    if isinstance(tree, (list, tuple)):
        return {k: v for i, item in enumerate(tree) for k, v in _tensors(item, f"{prefix}{i}.").items()}
    return {}


def test_a_resumed_run_evaluates_as_an_uninterrupted_one(tmp_path):
    cfg = digits(tmp_path / "data", "eval.bn_stats=recompute", "train.steps=8", "train.eval_every_steps=4",
                 "train.keep_checkpoint=true")
    run_training(cfg, tmp_path / "straight")
    preempted_after_five_steps = itertools.chain([False] * 5, itertools.repeat(True)).__next__
    assert run_training(cfg, tmp_path / "resumed", should_stop=preempted_after_five_steps).steps == 5
    assert run_training(cfg, tmp_path / "resumed").resumed_from_step == 5
    a = load_checkpoint(tmp_path / "straight" / "checkpoint.pt", torch.device("cpu"))
    b = load_checkpoint(tmp_path / "resumed" / "checkpoint.pt", torch.device("cpu"))
    for key in a["generator"]:
        assert torch.equal(a["generator"][key], b["generator"][key]), key
    for step in (4, 8):
        name = f"samples/step_{step:07d}.png"
        assert (tmp_path / "straight" / name).read_bytes() == (tmp_path / "resumed" / name).read_bytes()


def per_image_std(grid_png: Path, per_row: int = 4, classes: int = 10, side: int = 28, pad: int = 2) -> float:
    """Mean over the grid's images of each image's pixel standard deviation (make_grid's layout)."""
    grid = np.asarray(Image.open(grid_png).convert("L"), dtype=float) / 255
    cell = side + pad
    return float(np.mean([grid[pad + cell * row:cell * (row + 1), pad + cell * col:cell * (col + 1)].std()
                          for row in range(classes) for col in range(per_row)]))


def test_recomputed_statistics_give_samples_that_are_not_flat(tmp_path):
    """With the running averages of 6 steps G's eval-mode images are flat (per-image std ~0.002, measured);
    the recomputed statistics give the training-mode spread back (~0.06)."""
    run_training(digits(tmp_path / "data"), tmp_path / "running")
    run_training(digits(tmp_path / "data", "eval.bn_stats=recompute"), tmp_path / "recompute")
    flat = per_image_std(tmp_path / "running" / "samples" / "step_0000006.png")
    spread = per_image_std(tmp_path / "recompute" / "samples" / "step_0000006.png")
    assert flat < 0.01 and spread > 10 * flat


@pytest.mark.parametrize("override, message", [
    ("eval.bn_stats=standing", "eval.bn_stats = 'standing' is not allowed: one of ['running', 'recompute']"),
    ("eval.bn_stats_batches=0", "eval.bn_stats_batches = 0 is not allowed: an integer >= 1"),
])
def test_bad_options_are_named(override, message, tmp_path):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        digits(tmp_path, override)


def test_analysis_loads_the_generator_as_its_evaluations_saw_it(tmp_path):
    """TrainedGenerator (re-evaluation, GAN-train/test, memorisation) recomputes the statistics as the run did:
    its class-per-row grid of the evaluation latents is the run's own sample grid, byte for byte."""
    from torchvision.utils import make_grid, save_image

    from gan_study.study.train.trained_generator import TrainedGenerator

    cfg = digits(tmp_path / "data", "eval.bn_stats=recompute")
    run_training(cfg, tmp_path / "run")
    generator = TrainedGenerator(tmp_path / "run" / "generators" / "step_0000006.pt", "fid")
    latents = generator.latents(4, cfg.eval.seed).repeat(10, 1)
    images = generator(latents, torch.arange(10).repeat_interleave(4))
    save_image(make_grid(images.clamp(0, 1), nrow=4, padding=2, pad_value=0.5), tmp_path / "again.png")
    assert (tmp_path / "again.png").read_bytes() == (tmp_path / "run" / "samples" / "step_0000006.png").read_bytes()


def test_a_loaded_generator_recomputes_its_statistics_only_when_it_first_draws(tmp_path):
    """The report asks every trial's generator whether it is class-conditional: that must not cost
    eval.bn_stats_batches generator passes each. Loaded, its buffers are the file's; after a pass, recomputed."""
    from gan_study.study.train.trained_generator import TrainedGenerator

    run_training(digits(tmp_path / "data", "eval.bn_stats=recompute"), tmp_path / "run")
    path = tmp_path / "run" / "generators" / "step_0000006.pt"
    saved = torch.load(path, map_location="cpu", weights_only=False)["generator"]
    generator = TrainedGenerator(path, "fid")
    buffers = dict(generator.network.named_buffers())
    assert generator.num_classes == 10
    assert all(torch.equal(buffers[name], saved[name]) for name in buffers)
    generator(generator.latents(2, 0), torch.tensor([0, 1]))
    means = [name for name in buffers if name.endswith("running_mean")]
    assert means and not any(torch.equal(buffers[name], saved[name]) for name in means)
