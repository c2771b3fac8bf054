"""The disk cache behind reference statistics and trained encoders: round trip, integrity, concurrent writers."""
from __future__ import annotations

import multiprocessing

import numpy as np

from gan_study.study.metrics.cache import ArrayCache

KEY = {"dataset": "x", "n": 3, "encoder": "e-0123"}


def entry(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"mean": rng.normal(size=64), "covariance": rng.normal(size=(64, 64)), "n": np.array(3)}


def test_round_trip_keeps_values_dtypes_and_zero_d_arrays(tmp_path):
    cache = ArrayCache(tmp_path)
    assert cache.load("stats", KEY) is None and cache.misses == 1
    path = cache.save("stats", KEY, entry())
    assert path.parent == tmp_path and path.name.startswith("stats-") and not list(tmp_path.glob("*.tmp"))
    loaded = cache.load("stats", KEY)
    assert set(loaded) == {"mean", "covariance", "n"} and loaded["n"].shape == () and int(loaded["n"]) == 3
    np.testing.assert_array_equal(loaded["covariance"], entry()["covariance"])
    assert (cache.hits, cache.corrupt) == (1, 0)


def test_flipped_or_truncated_files_are_misses(tmp_path):
    cache = ArrayCache(tmp_path)
    path = cache.save("stats", KEY, entry())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert cache.load("stats", KEY) is None and cache.corrupt == 1
    cache.save("stats", KEY, entry())
    flipped = bytearray(path.read_bytes())
    flipped[-len(flipped) // 3] ^= 0x01
    path.write_bytes(bytes(flipped))
    assert cache.load("stats", KEY) is None and cache.corrupt == 2


def test_an_entry_under_another_key_is_not_returned(tmp_path):
    cache = ArrayCache(tmp_path)
    path = cache.save("stats", KEY, entry())
    other = {**KEY, "n": 4}
    path.rename(cache.path("stats", other))  # a file in the right place with the wrong content
    assert cache.load("stats", other) is None and cache.corrupt == 1


def _writer(root: str, seed: int) -> None:
    cache = ArrayCache(root)
    for _ in range(10):
        cache.save("stats", KEY, entry())


def test_concurrent_writers_never_expose_a_partial_file(tmp_path):
    context = multiprocessing.get_context("fork")  # the writers use numpy and files only
    writers = [context.Process(target=_writer, args=(str(tmp_path), seed)) for seed in range(3)]
    for process in writers:
        process.start()
    reader = ArrayCache(tmp_path)
    reads = 0
    while any(process.is_alive() for process in writers) or reads == 0:
        if reader.load("stats", KEY) is not None:
            reads += 1
    for process in writers:
        process.join()
        assert process.exitcode == 0
    assert reader.corrupt == 0 and reads > 0
    assert not list(tmp_path.glob("*.tmp"))
