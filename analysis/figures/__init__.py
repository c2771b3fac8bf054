"""Registered figures. Importing this package registers the built-in ones; `register_figure` adds more.

The imports below are in page order: a report shows figures in the order they were registered.
"""
from gan_study.analysis.figures import (budget, budget_hours, verdicts, profiles, optimizers, samples, distributions, seeds, triangles, curves,  # noqa: F401, I001
                              sensitivity, sanity, encoder_sensitivity, gan_train_test, augmentation, tsne, prd, memorisation,
                              triangles_accepted, latent_space)
from gan_study.analysis.figures.registry import (FigureSkipped, FigureSpec, available_figures, caption, draw_figure,
                                       get_figure, register_figure)

__all__ = ["FigureSkipped", "FigureSpec", "available_figures", "caption", "draw_figure", "get_figure",
           "register_figure"]
