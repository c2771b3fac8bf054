"""Checkpoints that make a resumed run bitwise identical to an uninterrupted one (on the CPU)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch


def rng_state() -> dict[str, Any]:
    """Every random stream the training step draws from: torch's CPU and CUDA generators."""
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write to a temporary file, then rename: a preemption mid-write leaves the previous checkpoint intact."""
    tmp = path.with_suffix(".pt.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, device: torch.device) -> dict[str, Any]:
    return torch.load(path, map_location=device, weights_only=False)
