"""Atomic writes (study/files.py): a failed write changes nothing, modes and the previous version are kept."""
from __future__ import annotations

import os
import stat

import pytest

from gan_study.study import files
from gan_study.study.files import READABLE_BY_ALL, write_atomically, write_text_atomically


def mode_of(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def fail_midway(handle) -> None:
    handle.write(b"half of a new file")
    raise OSError("disk full")


def test_a_write_that_raises_midway_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "record.json"
    path.write_text("old")
    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, fail_midway)
    assert path.read_text() == "old" and sorted(tmp_path.iterdir()) == [path]


def test_the_file_is_fsynced_before_it_is_renamed_into_place(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(files.os, "fsync", lambda fd: calls.append("fsync"))
    real_replace = os.replace
    monkeypatch.setattr(files.os, "replace", lambda *paths: (calls.append("replace"), real_replace(*paths)))
    write_text_atomically(tmp_path / "metrics.csv", "step\n1\n")
    assert calls == ["fsync", "replace"] and (tmp_path / "metrics.csv").read_text() == "step\n1\n"


def test_the_mode_argument_is_honoured_and_the_default_follows_the_umask(tmp_path):
    old_umask = os.umask(0o077)
    try:
        write_atomically(tmp_path / "shared.npz", lambda handle: handle.write(b"x"), mode=READABLE_BY_ALL)
        write_atomically(tmp_path / "private.npz", lambda handle: handle.write(b"x"), mode=0o600)
        write_text_atomically(tmp_path / "plain.txt", "x")
    finally:
        os.umask(old_umask)
    assert mode_of(tmp_path / "shared.npz") == 0o644
    assert mode_of(tmp_path / "private.npz") == 0o600
    assert mode_of(tmp_path / "plain.txt") == 0o600  # as open() would have made it under that umask


def test_the_current_file_becomes_the_previous_one_only_once_the_new_one_is_written(tmp_path):
    path, previous = tmp_path / "checkpoint.pt", tmp_path / "checkpoint.prev.pt"
    write_atomically(path, lambda handle: handle.write(b"first"), previous=previous)
    assert path.read_bytes() == b"first" and not previous.exists()
    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, fail_midway, previous=previous)
    assert path.read_bytes() == b"first" and not previous.exists()
    write_atomically(path, lambda handle: handle.write(b"second"), previous=previous)
    assert path.read_bytes() == b"second" and previous.read_bytes() == b"first"
    assert sorted(tmp_path.iterdir()) == [previous, path]
