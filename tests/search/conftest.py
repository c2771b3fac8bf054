"""Sweep tests compose gan-sweep's default config, whose evaluation is the paper's FID."""
import pytest


@pytest.fixture(autouse=True)
def _default_eval_validates(inception_weights_present):
    """FID validation checks the weights file exists; these tests train with stand-ins or tiny runs."""
