"""The hinge loss for gan-study; gan-study finds it through the entry point `hinge` of `gan_study.losses`."""
