"""Reading back what a saved figure shows: pixels of a colour in its PNG, the page size of its PDF."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

MEDIA_BOX = re.compile(rb"/MediaBox \[ *0 0 ([\d.]+) ([\d.]+) *\]")


def pixels_of_colour(image: Image.Image, colour: str) -> int:
    """How many pixels are exactly `colour` ("#rrggbb")."""
    rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return int(np.all(np.asarray(image.convert("RGB")) == rgb, axis=-1).sum())


def inked_share(image: Image.Image) -> float:
    """The share of pixels that are not (near) white: 0 for a blank figure."""
    return float((np.asarray(image.convert("L")) < 250).mean())


def pdf_page_in_pixels(pdf: Path, dpi: float) -> tuple[float, float]:
    """Width and height of the PDF's single page (points) at `dpi`: a PNG of the same crop has this size, give or
    take a few per cent: the tight crop follows the text, which the two renderers measure differently."""
    data = pdf.read_bytes()
    assert data[:4] == b"%PDF", f"{pdf} is not a PDF"
    (box,) = MEDIA_BOX.findall(data)
    return float(box[0]) * dpi / 72, float(box[1]) * dpi / 72
