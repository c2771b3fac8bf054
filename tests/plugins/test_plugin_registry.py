"""Losses from entry points (group gan_study.losses): found by name, imported on first use, refused clearly.

The entry points are real `importlib.metadata.EntryPoint`s pointing to real modules written here; only the list
the installed distributions would give is handed to the registry directly (what `pip install` changes).
"""
from __future__ import annotations

import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
import torch

from gan_study.models import GANLoss, available_losses, get_loss
from gan_study.models.losses import LossPluginError, registry
from gan_study.study.config import ConfigError, validate
from tests.conftest import compose

HINGE = '''
import torch.nn.functional as F
from gan_study.models.losses import LogitLoss

class Hinge(LogitLoss):
    def discriminator_objective(self, real_logits, fake_logits):
        return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()

    def generator_objective(self, fake_logits):
        return -fake_logits.mean()
'''


@pytest.fixture
def plugins(monkeypatch, tmp_path):
    """Install entry points: `plugins({"name": "module:attr"}, {"module": source})`; undone after the test."""
    monkeypatch.setattr(registry.LOSSES, "entries", dict(registry.LOSSES.entries))
    monkeypatch.syspath_prepend(str(tmp_path))

    def install(points: dict[str, str] | list[tuple[str, str]], modules: dict[str, str]) -> None:
        for name, source in modules.items():
            (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        pairs = points.items() if isinstance(points, dict) else points
        found = [EntryPoint(name, value, registry.ENTRY_POINT_GROUP) for name, value in pairs]
        monkeypatch.setattr(registry, "entry_points", lambda group: [e for e in found if e.group == group])
        monkeypatch.setattr(registry.LOSSES, "plugins", None)

    return install


def test_a_plugin_is_listed_without_import_and_registered_on_first_use(plugins):
    plugins({"plugin_hinge": "lazy_hinge:Hinge"}, {"lazy_hinge": HINGE + "\nIMPORTS = []\n"})
    import sys

    assert "plugin_hinge" in available_losses() and "lazy_hinge" not in sys.modules
    hinge = get_loss("plugin_hinge")
    assert hinge.__module__ == "lazy_hinge" and hinge.name == "plugin_hinge" and issubclass(hinge, GANLoss)
    real, fake = torch.tensor([0.5, 2.0]), torch.tensor([-3.0, 0.25])
    # relu(1-0.5)=0.5, relu(1-2)=0 -> 0.25;  relu(1-3)=0, relu(1+0.25)=1.25 -> 0.625
    assert hinge().discriminator_objective(real, fake).item() == pytest.approx(0.875)
    assert get_loss("plugin_hinge") is hinge  # imported once


def test_a_plugin_module_that_registers_itself_is_accepted(plugins):
    source = HINGE.replace("class Hinge", "from gan_study.models.losses import register_loss\n\n"
                                          "@register_loss('self_hinge')\nclass Hinge")
    plugins({"self_hinge": "self_registering:Hinge"}, {"self_registering": source})
    assert get_loss("self_hinge").__module__ == "self_registering"


def test_an_entry_point_that_fails_to_import_names_the_plugin_and_the_error(plugins):
    plugins({"broken": "broken_plugin:Hinge"}, {"broken_plugin": "import no_such_dependency_xyz\n"})
    assert "broken" in available_losses()  # listing does not import it: other runs are not affected
    with pytest.raises(LossPluginError, match=r"loss plugin 'broken = broken_plugin:Hinge' \(gan_study\.losses\) "
                                              r"cannot be imported: ModuleNotFoundError: No module named "
                                              r"'no_such_dependency_xyz'"):
        get_loss("broken")


def test_validation_turns_a_broken_plugin_into_a_config_error(plugins):
    plugins({"broken": "broken_plugin2:Hinge"}, {"broken_plugin2": "raise RuntimeError('half-written')\n"})
    cfg = compose(["model.name=broken", "dataset=triangles", "train=tiny", "eval=none"])
    with pytest.raises(ConfigError, match=r"model\.name = 'broken': loss plugin 'broken = broken_plugin2:Hinge'.*"
                                          r"RuntimeError: half-written"):
        validate(cfg)


def test_a_plugin_that_takes_a_built_in_name_is_refused(plugins):
    plugins({"ns_gan": "shadow:Hinge"}, {"shadow": HINGE})
    with pytest.raises(LossPluginError, match=r"loss plugin 'ns_gan = shadow:Hinge' \(gan_study\.losses\) is refused: "
                                              r"'ns_gan' is the built-in gan_study\.models\.losses\.ns_gan\."
                                              r"NonSaturatingGAN; rename the entry point"):
        available_losses()


def test_two_plugins_for_one_name_are_refused(plugins):
    plugins([("twin", "twin_a:Hinge"), ("twin", "twin_b:Hinge")], {"twin_a": HINGE, "twin_b": HINGE})
    with pytest.raises(LossPluginError, match=r"two loss plugins declare 'twin': 'twin = twin_a:Hinge'.*"
                                              r"'twin = twin_b:Hinge'"):
        get_loss("twin")


@pytest.mark.parametrize("target, allowed", [
    ("not_a_loss_value:VALUE", r"points to 3; allowed: a subclass of gan_study\.models\.losses\.GANLoss"),
    ("not_a_loss_class:Hinge", r"points to a class registered as 'other_name'; the entry point's name must be"),
])
def test_an_entry_point_must_name_a_loss_class_under_its_own_name(plugins, target, allowed):
    source = HINGE.replace("class Hinge", "from gan_study.models.losses import register_loss\n\n"
                                          "@register_loss('other_name')\nclass Hinge") + "\nVALUE = 3\n"
    plugins({"wrong": target}, {target.split(":")[0]: source})
    with pytest.raises(LossPluginError, match=allowed):
        get_loss("wrong")


def test_the_example_plugins_entry_point_gives_the_hinge_loss_with_its_margin(plugins, monkeypatch):
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    example = Path(__file__).resolve().parents[2] / "examples" / "hinge_plugin"
    declared = tomllib.loads((example / "pyproject.toml").read_text())["project"]["entry-points"]["gan_study.losses"]
    monkeypatch.syspath_prepend(str(example))
    plugins(declared, {})
    assert declared == {"hinge": "hinge_gan.loss:Hinge"}
    hinge = get_loss("hinge")(margin=2.0)
    real, fake = torch.tensor([0.5, 3.0]), torch.tensor([-3.0, 0.25])
    # relu(2-0.5)=1.5, relu(2-3)=0 -> 0.75;  relu(2-3)=0, relu(2+0.25)=2.25 -> 1.125;  L_G = -(−3+0.25)/2 = 1.375
    assert hinge.discriminator_objective(real, fake).item() == pytest.approx(1.875)
    assert hinge.generator_objective(fake).item() == pytest.approx(1.375)
    with pytest.raises(ValueError, match=r"hinge: margin = -1 is not allowed: a finite number > 0"):
        get_loss("hinge")(margin=-1)
