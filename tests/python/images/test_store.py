"""The image store: sizes decoded, thumbnails small, bytes kept as given."""

from __future__ import annotations

import base64

import numpy
import pytest
from matplotlib.figure import Figure
from tests.pictures import decoded, encoded, flat, photo

from nbchat.errors import InvalidImage
from nbchat.images import THUMBNAIL_LIMIT, MemoryImageStore, image_id, to_image


def thumbnail_of(url: str) -> tuple[str, tuple[int, int]]:
    head, _, payload = url.partition(",")
    assert head in ("data:image/png;base64", "data:image/jpeg;base64")
    return decoded(base64.b64decode(payload, validate=True))


def test_put_describes_the_image_and_keeps_its_bytes() -> None:
    store = MemoryImageStore()
    data = encoded(photo(640, 480), "JPEG")

    part = store.put(data, "image/jpeg")

    assert part["type"] == "image"
    assert part["id"] == image_id(data)
    assert (part["mime"], part["width"], part["height"]) == ("image/jpeg", 640, 480)
    assert store.get(part["id"]) == data
    assert store.image(part["id"]).data == data


@pytest.mark.parametrize(
    "pixels",
    [
        photo(1568, 1568, seed=1),
        numpy.random.default_rng(2).integers(0, 256, (1568, 1176, 3), numpy.uint8),
    ],
)
def test_a_thumbnail_fits_in_16_kb_even_for_noise(pixels: numpy.ndarray) -> None:
    image = to_image(pixels)

    part = MemoryImageStore().add(image)

    assert len(part["thumbnail"]) <= THUMBNAIL_LIMIT == 16 * 1024
    _, size = thumbnail_of(part["thumbnail"])
    assert max(size) <= 256


def test_a_plot_s_thumbnail_stays_png() -> None:
    figure = Figure(figsize=(6, 4), dpi=100)
    figure.add_subplot().plot([1, 3, 2])

    part = MemoryImageStore().add(to_image(figure))

    assert thumbnail_of(part["thumbnail"]) == ("PNG", (256, 171))


def test_the_same_bytes_are_kept_once() -> None:
    store = MemoryImageStore()
    data = encoded(flat(20, 20), "PNG")

    assert store.put(data, "image/png") == store.put(data, "image/png")
    assert len(store) == 1


def test_put_refuses_what_is_not_a_png_or_jpeg_file() -> None:
    store = MemoryImageStore()

    with pytest.raises(InvalidImage):
        store.put(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png")
    with pytest.raises(InvalidImage):
        store.put(encoded(flat(20, 20), "GIF"), "image/gif")  # to_image makes it a PNG first
    with pytest.raises(KeyError):
        store.get("0123456789abcdef")
    assert len(store) == 0
