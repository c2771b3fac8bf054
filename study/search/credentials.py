"""A database password never written to a file: not to a log line, a saved config or a pickled task.

A study's run and log folders sit on a shared file system, readable by other users. The recommended way
keeps the password out of the storage URL entirely, through libpq's own channels, which the driver and every
worker read alike: `~/.pgpass` (a shared home), a pgpass file named in the URL
(`postgresql+psycopg2://user@host/db?passfile=/shared/me/.pgpass`), or `PGPASSWORD` in the environment.

A URL that does carry one (`postgresql+psycopg2://user:secret@host/db`) still works: at the edge
(`for_workers`) the password moves into this process's `PGPASSWORD`, which the local executor's children and
SLURM jobs (sbatch exports the submitting environment) inherit, and the URL travels on without it; `masked`
is the URL for display; `scrub_files` rewrites the files Hydra saved before the sweep began.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable
from urllib.parse import unquote

from gan_study.study.files import write_text_atomically

MASK = "***"
ENV_PASSWORD = "PGPASSWORD"


def _split(url: str) -> tuple[str, str, str] | None:
    """(up to 'user:', the password as written, from '@' on), or None when the URL names no password."""
    if "://" not in url:
        return None
    scheme, rest = url.split("://", 1)
    authority_end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority = rest[:authority_end]
    if "@" not in authority:
        return None
    userinfo = authority[:authority.rindex("@")]
    if ":" not in userinfo:
        return None
    user = userinfo[:userinfo.index(":")]
    password = userinfo[len(user) + 1:]
    return f"{scheme}://{user}:", password, rest[len(userinfo):]


def password_in(url: str) -> str | None:
    """The password exactly as written in the URL (percent-encoded where it was), or None."""
    parts = _split(url)
    return parts[1] if parts else None


def masked(url: str) -> str:
    """The URL for display: its password (if any) replaced by ***."""
    parts = _split(url)
    return url if parts is None else f"{parts[0]}{MASK}{parts[2]}"


def without_password(url: str) -> str:
    parts = _split(url)
    return url if parts is None else f"{parts[0][:-1]}{parts[2]}"


def for_workers(url: str) -> str:
    """The storage URL to hand on (plans, tasks, logs): a PostgreSQL password moves into `PGPASSWORD`.

    Other databases keep their URL: only libpq reads a password from the environment.
    """
    password = password_in(url)
    if password is None or not url.split("://", 1)[0].startswith("postgresql"):
        return url
    os.environ[ENV_PASSWORD] = unquote(password)
    return without_password(url)


def scrub_files(paths: Iterable[Path], url: str) -> list[Path]:
    """Replace the URL's password by *** in each file (e.g. Hydra's .hydra/*.yaml); returns the files changed."""
    parts = _split(url)
    changed: list[Path] = []
    if parts is None:
        return changed
    written = parts[0].split("://", 1)[1] + parts[1] + "@"  # "user:secret@": never a bare word of the file
    for path in paths:
        text = path.read_text(errors="surrogateescape")
        if written in text:
            scrubbed = text.replace(written, parts[0].split("://", 1)[1] + MASK + "@")
            write_text_atomically(path, scrubbed, errors="surrogateescape")
            changed.append(path)
    return changed


def scrub_hydra_output(url: str | None) -> list[Path]:
    """In a Hydra app: mask the URL's password in the files Hydra saved before the app began
    (`.hydra/config.yaml`, `overrides.yaml`, `hydra.yaml`); returns the files changed."""
    if url is None or password_in(str(url)) is None:
        return []
    from hydra.core.hydra_config import HydraConfig

    hydra = HydraConfig.get()
    if hydra.output_subdir is None:
        return []
    return scrub_files(sorted((Path(hydra.runtime.output_dir) / hydra.output_subdir).glob("*.yaml")), str(url))
