"""The data set registry: names and splits checked before any file, declarations enforced, duplicates refused."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from gan_study.study.data import (
    DatasetNotFoundError,
    ImageSet,
    available_datasets,
    dataset_info,
    download_dataset,
    load_dataset,
    register_dataset,
)
from gan_study.study.data import registry

CONF_DATASETS = Path(__file__).resolve().parents[2] / "conf" / "dataset"
BUILT_IN = {
    "mnist": ((1, 28, 28), ("train", "test"), True, 10),
    "fashion_mnist": ((1, 28, 28), ("train", "test"), True, 10),
    "cifar10": ((3, 32, 32), ("train", "test"), True, 10),
    "celeba": ((3, 64, 64), ("train", "test", "holdout"), False, None),
}


@pytest.fixture
def scratch_registry(monkeypatch):
    """Registrations made by a test vanish after it."""
    monkeypatch.setattr(registry.DATASETS, "entries", dict(registry.DATASETS.entries))


def test_built_in_data_sets_declare_the_paper_shapes_and_splits():
    assert set(BUILT_IN) <= set(available_datasets())
    for name, (shape, splits, has_labels, num_classes) in BUILT_IN.items():
        info = dataset_info(name)
        assert tuple(info)[:4] == (shape, splits, has_labels, num_classes)
        assert (info.check_files is None) == (name in ("triangles", "digits"))  # generated or bundled: no files
        assert (info.image_shape, info.splits, info.has_labels) == (shape, splits, has_labels)


def test_dataset_configs_agree_with_the_registry():
    for name, (shape, splits, *_) in BUILT_IN.items():
        conf = yaml.safe_load((CONF_DATASETS / f"{name}.yaml").read_text())
        assert conf["name"] == name
        assert tuple(conf["image_shape"]) == shape
        assert conf["train_split"] in splits and conf["reference_split"] in splits


def test_unknown_name_is_refused_before_touching_disk(tmp_path):
    root = tmp_path / "no_such_root"
    with pytest.raises(ValueError) as error:
        load_dataset("mnsit", root, "train")
    message = str(error.value)
    assert "'mnsit'" in message
    for name in BUILT_IN:
        assert repr(name) in message
    assert not root.exists()
    with pytest.raises(ValueError, match=r"dataset.name = 'imagenet' is not allowed: one of \['celeba'"):
        dataset_info("imagenet")


@pytest.mark.parametrize("name, split", [("celeba", "validation"), ("mnist", "holdout"), ("cifar10", "Train")])
def test_unknown_split_names_the_allowed_splits_before_touching_disk(name, split, tmp_path):
    with pytest.raises(ValueError) as error:
        load_dataset(name, tmp_path / "empty", split)
    assert not isinstance(error.value, DatasetNotFoundError)
    message = str(error.value)
    assert repr(split) in message and repr(name) in message
    assert str(list(BUILT_IN[name][1])) in message


def test_duplicate_registration_is_refused(scratch_registry):
    with pytest.raises(ValueError, match="'mnist' is already registered by gan_study.study.data.mnist.load_mnist"):
        register_dataset("mnist", (1, 28, 28), ("train", "test"), has_labels=True)(lambda root, split, dl: None)

    @register_dataset("plugin", (1, 2, 2), ("train",), has_labels=False)
    def first(root, split, download):
        raise AssertionError("not called")

    assert register_dataset("plugin", (1, 2, 2), ("train",), has_labels=False)(first) is first  # the same again
    with pytest.raises(ValueError, match=r"'plugin' is already registered by \S*test_dataset_registry\."
                                         r"test_duplicate_registration_is_refused\.<locals>\.first; choose another name"):
        register_dataset("plugin", (1, 3, 3), ("train",), has_labels=False)(first)


@pytest.mark.parametrize("shape, splits, field", [
    ((28, 28), ("train",), "image_shape"),
    ((1, 0, 28), ("train",), "image_shape"),
    ((1, 28, 28), (), "splits"),
    ((1, 28, 28), ("train", "train"), "splits"),
])
def test_bad_declarations_are_refused(shape, splits, field, scratch_registry):
    with pytest.raises(ValueError, match=field):
        register_dataset("bad", shape, splits, has_labels=False)
    assert "bad" not in available_datasets()


def _constant_loader(name: str, count: int, shape=(1, 2, 2), labels=True, calls=None):
    def load(root: Path, split: str, download: bool) -> ImageSet:
        if calls is not None:
            calls.append((root, split, download))
        images = torch.full((count, *shape), 7, dtype=torch.uint8)
        return ImageSet(images, torch.arange(count) if labels else None, name, split)
    return load


def test_plugin_data_set_loads_through_the_registry_and_prefetches_every_split(scratch_registry, tmp_path):
    calls = []
    register_dataset("plugin", (1, 2, 2), ("train", "test"), has_labels=True)(
        _constant_loader("plugin", 3, calls=calls))
    loaded = load_dataset("plugin", str(tmp_path), "test")
    assert (loaded.name, loaded.split, len(loaded), loaded.shape) == ("plugin", "test", 3, (1, 2, 2))
    assert calls == [(tmp_path, "test", False)]
    assert download_dataset("plugin", tmp_path) == {"train": 3, "test": 3}
    assert calls[1:] == [(tmp_path, "train", True), (tmp_path, "test", True)]


@pytest.mark.parametrize("loader, problem", [
    (_constant_loader("plugin", 2, shape=(1, 3, 3)), "shape"),
    (_constant_loader("plugin", 2, labels=False), "has_labels"),
    (_constant_loader("other", 2), "named 'other'"),
])
def test_a_loader_breaking_its_declaration_is_reported(loader, problem, scratch_registry, tmp_path):
    register_dataset("plugin", (1, 2, 2), ("train",), has_labels=True)(loader)
    with pytest.raises(ValueError, match=problem):
        load_dataset("plugin", tmp_path, "train")
