"""The paper's published numbers, with how sure we are of each (docs/protocol.md#published-numbers).

Only the FID bias/variance values are verified against the project's source documents. The best-FID
table is a recollection (docs/protocol.md#published-numbers, unverified): it is shown only on request and always labelled
UNVERIFIED.
"""
from __future__ import annotations

FID_BIAS_VARIANCE: dict[str, tuple[float, float]] = {
    "celeba": (2.27, 0.02), "cifar10": (5.19, 0.02), "fashion_mnist": (2.60, 0.03), "mnist": (1.25, 0.02)}
"""VERIFIED. FID between two real sample sets (10k test vs 10k train), mean and sd over M = 50 draws."""
FID_BIAS_VARIANCE_SOURCE = "paper, FID bias/variance table (verified; docs/protocol.md#fid-sanity-experiments)"

BEST_FID_UNVERIFIED: dict[tuple[str, str], str] = {
    (model, dataset): value
    for model, values in {
        "mm_gan": ("9.8 ± 0.9", "29.6 ± 1.6", "72.7 ± 3.6", "65.6 ± 4.2"),
        "ns_gan": ("6.8 ± 0.5", "26.5 ± 1.6", "58.5 ± 1.9", "55.0 ± 3.3"),
        "lsgan": ("7.8 ± 0.6*", "30.7 ± 2.2", "87.1 ± 47.5", "53.9 ± 2.8*"),
        "wgan": ("6.7 ± 0.4", "21.5 ± 1.6", "55.2 ± 2.3", "41.3 ± 2.0"),
        "wgan_gp": ("20.3 ± 5.0", "24.5 ± 2.1", "55.8 ± 0.9", "30.0 ± 1.0"),
        "dragan": ("7.6 ± 0.4", "27.7 ± 1.2", "69.8 ± 2.0", "42.3 ± 3.0"),
        "began": ("13.1 ± 1.0", "22.9 ± 0.9", "71.4 ± 1.6", "38.9 ± 0.9"),
        "vae": ("23.8 ± 0.6", "58.7 ± 1.2", "155.7 ± 11.6", "85.7 ± 3.8"),
    }.items()
    for dataset, value in zip(("mnist", "fashion_mnist", "cifar10", "celeba"), values)
}
"""UNVERIFIED recollection of the best-FID table (mean ± sd over 50 seeds of the best wide configuration)."""
BEST_FID_SOURCE = "paper, best-FID table, recalled (docs/protocol.md#published-numbers): UNVERIFIED, not checked against the PDF"
