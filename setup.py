"""Packaging of the one import name, `gan_study`: the top-level folders become its sub-packages.

The folders stay where the project keeps them (`study/ models/ launch/ analysis/ conf/`), but they are
installed and imported as `gan_study.study`, `gan_study.models`, ..., so a user's own `models/` or `study/`
package never shadows gan-study's, nor gan-study theirs (docs/architecture.md, "Import names").
Everything else is declared in pyproject.toml.
"""
from setuptools import find_packages, setup

FOLDERS = ["study", "models", "launch", "analysis", "conf"]

setup(
    package_dir={"gan_study": "."},
    packages=[f"gan_study.{name}" for name in find_packages(include=[f"{folder}*" for folder in FOLDERS])],
    package_data={"gan_study.conf": ["**/*.yaml"]},
)
