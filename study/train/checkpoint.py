"""Checkpoints that make a resumed run bitwise identical to an uninterrupted one (on the CPU), survive a bad
write, and cost a finished run only its generators.

During a run `checkpoint.pt` holds the whole training state and `checkpoint.prev.pt` the one before it: a
checkpoint cut short (full disk, quota, a crash mid-write on a file system that does not honour the rename
order) is detected when read, and the run falls back to the previous one, or starts over, with a one-line
warning. Every evaluation also writes the generator alone to `generators/step_XXXXXXX.pt`; when the run is
finished only the generators of its best evaluations (per metric) and of its last one are kept, and the
full checkpoints are dropped unless `train.keep_checkpoint=true` (docs/cluster.md, "Disk use").
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Iterable

import torch

from gan_study.study.files import write_atomically

log = logging.getLogger("gan_study.train")

RESUME_KEYS = ("step", "generator", "discriminator", "optimizer_g", "optimizer_d", "stream", "rng", "config")
"""What a checkpoint must hold to resume a run; a file without them is treated as unreadable."""


def rng_state() -> dict[str, Any]:
    """Every random stream the training step draws from: torch's CPU and CUDA generators."""
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Generator states are CPU byte tensors, wherever `load_checkpoint`'s map_location put them."""
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([generator.cpu() for generator in state["cuda"]])


def previous_checkpoint(path: Path) -> Path:
    """Where the checkpoint before `path` is kept (checkpoint.pt -> checkpoint.prev.pt)."""
    return path.with_suffix(".prev.pt")


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write (and fsync) a temporary file, keep the current checkpoint as the previous one, then rename."""
    write_atomically(path, lambda handle: torch.save(state, handle), previous=previous_checkpoint(path))


def load_checkpoint(path: Path, device: torch.device) -> dict[str, Any]:
    return torch.load(path, map_location=device, weights_only=False)


def _readable(path: Path, device: torch.device) -> tuple[dict[str, Any] | None, str]:
    """The checkpoint at `path` and '', or None and why it cannot be used."""
    if not path.exists():
        return None, "missing"
    try:
        state = load_checkpoint(path, device)
    except Exception as error:  # noqa: BLE001 - a cut-short file fails in zip, pickle or storage code alike
        return None, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else 'unreadable'}"
    missing = [key for key in RESUME_KEYS if not isinstance(state, dict) or key not in state]
    return (None, f"it lacks {missing}") if missing else (state, "")


def resume_state(path: Path, device: torch.device) -> dict[str, Any] | None:
    """The newest readable checkpoint (`path`, else the previous one), or None to start over.

    Either fallback is said in one warning line naming the file, why it was unusable and what happens."""
    state, why = _readable(path, device)
    if state is not None:
        return state
    previous = previous_checkpoint(path)
    fallback, why_previous = _readable(previous, device)
    if fallback is not None:
        log.warning("%s is unusable (%s): resuming from the previous checkpoint %s (step %d)", path, why,
                    previous.name, fallback["step"])
        return fallback
    log.warning("%s is unusable (%s) and there is no good previous checkpoint (%s): starting the run over",
                path, why, why_previous)
    return None


def generator_path(folder: Path, step: int) -> Path:
    return folder / f"step_{step:07d}.pt"


def save_generator(folder: Path, step: int, generator: dict[str, Any], config: dict[str, Any]) -> None:
    """The generator of one evaluation, with what re-evaluating it needs (the run's config, the step)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = generator_path(folder, step)
    entry = {"step": step, "generator": generator, "config": config}
    write_atomically(path, lambda handle: torch.save(entry, handle))


def keep_generators(folder: Path, steps: Iterable[int]) -> list[Path]:
    """Delete every generator file but those of `steps`; returns the files kept."""
    wanted = {generator_path(folder, int(step)) for step in steps}
    kept = []
    for path in sorted(folder.glob("step_*.pt")) if folder.exists() else []:
        if path in wanted:
            kept.append(path)
        else:
            path.unlink()
    return kept


def last_generator(run_dir: Path) -> Path:
    """The file holding a run's latest generator: its checkpoint while it runs, its last generator once finished."""
    checkpoint = run_dir / "checkpoint.pt"
    saved = sorted((run_dir / "generators").glob("step_*.pt"))
    if checkpoint.exists() or not saved:
        return checkpoint
    return saved[-1]
