"""The one registry mechanism: a name is taken once, entries are checked, paths are imported only when asked for."""
from __future__ import annotations

import re
import sys

import pytest

from gan_study.models.checks import ConfigError
from gan_study.models.registry import Registry, UnknownName

HERE = re.escape(__name__)


class Base:
    pass


def test_a_name_is_taken_once_and_the_same_registration_again_changes_nothing():
    shapes = Registry("shape", "model.shape", base=Base)

    @shapes.register("square")
    class Square(Base):
        pass

    assert shapes.register("square")(Square) is Square and shapes.get("square") is Square and Square.name == "square"

    class Other(Base):
        pass

    with pytest.raises(ValueError, match=rf"^shape 'square' is already registered by {HERE}\.test_a_name_is_taken_"
                                         r"once_and_the_same_registration_again_changes_nothing\.<locals>\.Square; "
                                         r"choose another name$"):
        shapes.register("square")(Other)
    assert shapes.get("square") is Square


def test_only_subclasses_of_the_base_or_callables_without_one_register():
    with pytest.raises(TypeError, match=r"^register_shape\('plain'\) got <class 'dict'>; allowed: a subclass of "
                                        rf"{HERE}\.Base$"):
        Registry("shape", "model.shape", base=Base).register("plain")(dict)
    with pytest.raises(TypeError, match=r"^register_figure\('three'\) got 3; allowed: a callable$"):
        Registry("figure", "figures").add("three", 3)


@pytest.mark.parametrize("bad", ["", "two words", "1st", None])
def test_names_are_identifiers_checked_before_anything_is_decorated(bad):
    with pytest.raises(ValueError, match=rf"^shape name {bad!r} is not allowed; allowed: a non-empty identifier "):
        Registry("shape", "model.shape", base=Base).register(bad)


def test_an_unknown_name_names_the_field_the_value_and_the_allowed_names():
    shapes = Registry("shape", "model.shape", base=Base)
    shapes.register("square")(type("Square", (Base,), {}))
    shapes.register("circle")(type("Circle", (Base,), {}))
    with pytest.raises(UnknownName) as error:
        shapes.get("hexagon")
    assert str(error.value) == "model.shape = 'hexagon' is not allowed: one of ['circle', 'square']"
    assert isinstance(error.value, ConfigError) and isinstance(error.value, KeyError)
    assert list(shapes) == ["square", "circle"] and shapes.available() == ["circle", "square"]


def test_info_is_kept_with_the_entry_and_another_info_is_another_registration():
    def draw():
        pass

    figures = Registry("figure", "figures")
    figures.register("curves", info={"title": "Curves"})(draw)
    assert figures.info("curves") == {"title": "Curves"} and figures.get("curves") is draw
    with pytest.raises(ValueError, match="figure 'curves' is already registered by"):
        figures.add("curves", draw, {"title": "Other"})


def test_a_path_entry_is_imported_only_when_its_name_is_asked_for(tmp_path, monkeypatch):
    (tmp_path / "lazy_shapes.py").write_text(f"from {__name__} import Base\n\n"
                                             "class Hexagon(Base):\n    pass\n\nclass Plain:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    shapes = Registry("shape", "model.shape", base=Base)
    shapes.add("hexagon", "lazy_shapes:Hexagon")
    shapes.add("plain", "lazy_shapes:Plain")
    shapes.add("hexagon", "lazy_shapes:Hexagon")  # the same path again
    assert shapes.available() == ["hexagon", "plain"] and "lazy_shapes" not in sys.modules
    assert shapes.get("hexagon").__name__ == "Hexagon" and "lazy_shapes" in sys.modules
    with pytest.raises(TypeError, match=r"^register_shape\('plain'\) got <class 'lazy_shapes\.Plain'>; allowed: a "
                                        rf"subclass of {HERE}\.Base$"):
        shapes.get("plain")
    with pytest.raises(ValueError, match=r"^shape 'hexagon' is already registered by lazy_shapes:Hexagon; "):
        shapes.add("hexagon", "lazy_shapes:Plain")
    with pytest.raises(ValueError, match=r"^register_shape\('flat', 'lazy_shapes\.Hexagon'\): the path must be "
                                         r"'module:attr'$"):
        shapes.add("flat", "lazy_shapes.Hexagon")
    monkeypatch.delitem(sys.modules, "lazy_shapes")
