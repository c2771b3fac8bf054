"""Latent space figures from real (tiny) trained runs: the pixels drawn are the run's generator at the interpolated
latents and at every class, computed here independently of the figure code."""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import torch
from synthetic_studies import tables_of, trial_rows

from gan_study.analysis.figures import FigureSkipped, draw_figure
from gan_study.analysis.figures.latent_space import STEPS, image_grid, lerp, slerp
from gan_study.analysis.inputs import ReportInputs, ReportOptions
from gan_study.models.losses import get_loss
from gan_study.study.config import validate
from gan_study.study.train.run import run_training
from tests.conftest import compose
from tests.labelled_data import write_labelled_mnist


def trained(tmp_path_factory, *overrides: str) -> Path:
    run_dir = tmp_path_factory.mktemp("run")
    cfg = validate(compose(["train=tiny", "eval=none", "model=ns_gan", *overrides]))
    assert run_training(cfg, run_dir).status == "completed"
    return run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("labelled")
    write_labelled_mnist(root, train_count=100, test_count=20)
    return {"triangles": trained(tmp_path_factory, "dataset=triangles"),
            "mnist": trained(tmp_path_factory, "dataset=mnist", f"data_root={root}", "conditional.enabled=true")}


def inputs_of(runs: dict[str, Path]) -> ReportInputs:
    parts = []
    for index, (dataset, run_dir) in enumerate(runs.items()):
        trials = trial_rows("s", "ns_gan", dataset, "wide", [5.0 + index, 9.0], first_trial=2 * index)
        trials["run_dir"] = [str(run_dir), "/nonexistent/run"]  # the best trial has a generator, the other none
        parts.append((trials, trials.iloc[:0].assign(step=[])))
    return ReportInputs(tables_of(*parts), ReportOptions())


def generator_of(run_dir: Path, conditional: bool):
    state = torch.load(run_dir / "generators" / "step_0000006.pt", weights_only=False)
    shape = tuple(state["config"]["dataset"]["image_shape"])
    loss = get_loss("ns_gan")()
    generator = loss.build_networks(shape, 64, True, "lrelu").generator
    if conditional:
        from gan_study.models.conditional import ConditionalGenerator
        generator = ConditionalGenerator(shape, 64, "lrelu", 10)
    generator.load_state_dict(state["generator"])
    return generator.eval()


def test_slerp_keeps_the_norm_and_splits_the_angle_evenly():
    z0, z1 = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
    t = torch.linspace(0, 1, 5)
    path = slerp(z0, z1, t)
    torch.testing.assert_close(path[[0, -1]], torch.stack([z0, z1]))
    torch.testing.assert_close(path.norm(dim=1), torch.ones(5))
    torch.testing.assert_close(path[2], torch.tensor([math.sqrt(0.5), math.sqrt(0.5), 0.0]))  # 45° of 90°
    torch.testing.assert_close(lerp(z0, z1, t)[2], torch.tensor([0.5, 0.5, 0.0]))
    torch.testing.assert_close(slerp(z0, 2 * z0, t), lerp(z0, 2 * z0, t))  # parallel: linear


def test_the_interpolation_rows_are_the_generator_at_linear_and_spherical_latents(runs):
    fig = draw_figure("latent_interpolation", inputs_of(runs))
    panels = {ax.images[0].get_gid(): ax for ax in fig.axes}
    assert list(panels) == ["mnist", "triangles"]  # the paper's data set order
    z = torch.rand(2, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1  # U[-1, 1] prior, seed 0
    t = torch.linspace(0, 1, STEPS)
    omega = math.acos(float(z[0] @ z[1] / (z[0].norm() * z[1].norm())))
    spherical = torch.stack([(math.sin((1 - s) * omega) * z[0] + math.sin(s * omega) * z[1]) / math.sin(omega)
                             for s in t.tolist()])
    linear = torch.stack([(1 - s) * z[0] + s * z[1] for s in t.tolist()])
    with torch.no_grad():
        expected = generator_of(runs["triangles"], False)(torch.cat([linear, spherical]))
    drawn = panels["triangles"].images[0].get_array()
    assert drawn.shape == (2 * 29 - 1, STEPS * 29 - 1)
    assert torch.allclose(torch.from_numpy(drawn.data), torch.from_numpy(image_grid(expected, 2)), atol=1e-5)
    assert [label.get_text() for label in panels["triangles"].get_yticklabels()] == ["linear", "spherical"]
    assert panels["triangles"].get_title() == "Triangles: NS GAN, trial 0\nstep 6 (fid 5)"
    plt.close(fig)


def test_the_class_figure_draws_each_latent_as_every_class(runs):
    fig = draw_figure("latent_classes", inputs_of(runs))
    (ax,) = fig.axes  # only the conditional MNIST run
    assert ax.images[0].get_gid() == "mnist"
    z = (torch.rand(4, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1).repeat_interleave(10, dim=0)
    labels = torch.arange(10).repeat(4)
    with torch.no_grad():
        expected = generator_of(runs["mnist"], True)(z, labels)
    drawn = torch.from_numpy(ax.images[0].get_array().data)
    assert torch.allclose(drawn, torch.from_numpy(image_grid(expected, 4)), atol=1e-5)
    assert [label.get_text() for label in ax.get_xticklabels()] == [str(c) for c in range(10)]
    assert not torch.allclose(drawn[:28, :28], drawn[:28, 29:57])  # class 0 and class 1 of one latent differ
    plt.close(fig)


def test_without_generators_both_figures_are_skipped_with_the_reason(runs):
    inputs = inputs_of({"triangles": Path("/nonexistent/a")})
    with pytest.raises(FigureSkipped, match="kept generator"):
        draw_figure("latent_interpolation", inputs)
    with pytest.raises(FigureSkipped, match="class-conditional"):
        draw_figure("latent_classes", inputs_of({"triangles": runs["triangles"]}))
