"""Hydra configuration tree, packaged so `config_path` resolves in any install."""
