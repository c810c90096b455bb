"""to_image: every kind of input a user may give, and every kind that is refused."""

from __future__ import annotations

import base64
import io
import pathlib
import struct
import typing
import zlib

import numpy
import pytest
from matplotlib.figure import Figure
from PIL import Image as PILImage
from tests.pictures import decoded, encoded, flat, photo

from nbchat.errors import InvalidImage, InvalidRequest
from nbchat.images import Image, to_image

SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'


def check(image: Image, fmt: str, size: tuple[int, int]) -> None:
    assert (image.width, image.height) == size
    assert image.mime == f"image/{fmt.lower()}"
    assert decoded(image.data) == (fmt, size)  # the bytes are what the fields say


def test_a_path_as_str_or_path_and_the_format_comes_from_the_bytes(tmp_path: pathlib.Path) -> None:
    named_wrong = tmp_path / "photo.jpg"  # a PNG, whatever its name says
    named_wrong.write_bytes(encoded(flat(64, 48), "PNG"))

    check(to_image(str(named_wrong)), "PNG", (64, 48))
    check(to_image(named_wrong), "PNG", (64, 48))


def test_the_bytes_of_a_file() -> None:
    check(to_image(encoded(photo(80, 60), "JPEG")), "JPEG", (80, 60))
    check(to_image(bytearray(encoded(flat(8, 6), "PNG"))), "PNG", (8, 6))


def test_a_pil_image_in_any_mode() -> None:
    check(to_image(PILImage.fromarray(flat(30, 20))), "PNG", (30, 20))
    check(to_image(PILImage.new("P", (12, 10))), "PNG", (12, 10))
    check(to_image(PILImage.new("I;16", (12, 10))), "PNG", (12, 10))


@pytest.mark.parametrize(("dpi", "size"), [(50, (200, 150)), (100, (400, 300))])
def test_a_figure_is_drawn_at_its_own_dpi(dpi: int, size: tuple[int, int]) -> None:
    figure = Figure(figsize=(4, 3), dpi=dpi)
    figure.add_subplot().plot([1, 3, 2])

    check(to_image(figure), "PNG", size)


@pytest.mark.parametrize(
    ("array", "mode"),
    [
        (numpy.zeros((30, 40), numpy.uint8), "L"),
        (flat(40, 30), "RGB"),
        (numpy.full((30, 40, 4), 200, numpy.uint8), "RGBA"),
        (numpy.linspace(0, 1, 30 * 40).reshape(30, 40), "L"),
        (numpy.full((30, 40, 3), 0.5, numpy.float32), "RGB"),
        (numpy.full((30, 40, 4), 1.0), "RGBA"),
    ],
)
def test_numpy_arrays_grey_rgb_rgba_uint8_or_floats(array: numpy.ndarray, mode: str) -> None:
    image = to_image(array)

    check(image, "PNG", (40, 30))
    with PILImage.open(io.BytesIO(image.data)) as picture:
        assert picture.mode == mode


def test_floats_are_scaled_to_bytes() -> None:
    image = to_image(numpy.full((2, 2, 3), 0.5))

    with PILImage.open(io.BytesIO(image.data)) as picture:
        assert picture.getpixel((0, 0)) == (128, 128, 128)


def test_a_data_url() -> None:
    url = "data:image/png;base64," + base64.b64encode(encoded(flat(16, 9), "PNG")).decode()

    check(to_image(url), "PNG", (16, 9))
    check(to_image(url.replace("image/png", "")), "PNG", (16, 9))  # the type left out


def test_webp_and_gif_are_sent_as_png_gif_as_its_first_frame() -> None:
    frames = [PILImage.new("RGB", (20, 10), colour) for colour in ("red", "blue")]
    gif = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])

    check(to_image(encoded(flat(20, 10), "WEBP", lossless=True)), "PNG", (20, 10))
    first = to_image(gif)
    check(first, "PNG", (20, 10))
    with PILImage.open(io.BytesIO(first.data)) as picture:
        assert picture.convert("RGB").getpixel((5, 5)) == (255, 0, 0)


def test_an_image_is_itself_and_is_scaled_when_too_large() -> None:
    image = to_image(flat(100, 50))

    assert to_image(image) is image
    check(to_image(image, max_side=40), "PNG", (40, 20))


def refused(given: object) -> InvalidImage:
    with pytest.raises(InvalidImage) as caught:
        to_image(given)
    error = caught.value
    assert isinstance(error, InvalidRequest)  # refused before any request
    assert "\n" not in str(error)  # one line
    return error


@pytest.mark.parametrize(
    ("given", "named"),
    [
        (SVG, "SVG"),
        ("data:image/svg+xml;base64," + base64.b64encode(SVG).decode(), "svg"),
        ("http://example.com/cat.png", "http://example.com/cat.png"),
        ("https://example.com/cat.png", "URL"),
        ("file:///etc/passwd", "URL"),
        ("//fileserver/share/cat.png", "URL"),
        ("\\\\fileserver\\share\\cat.png", "URL"),
        (42, "int"),
        (None, "NoneType"),
        (3.5, "float"),
        (b"hello, world", "b'hello, "),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "Cannot read"),
        (numpy.zeros((4, 4, 2), numpy.uint8), "shape (4, 4, 2)"),
        (numpy.zeros((0, 4), numpy.uint8), "shape (0, 4)"),
        (numpy.zeros((4, 4), numpy.int64), "dtype int64"),
        (numpy.zeros((4, 4), bool), "dtype bool"),
        (numpy.full((4, 4), 2.0), "not all in [0, 1]"),
        (numpy.full((4, 4), numpy.nan), "not all in [0, 1]"),
        ("data:image/png;base64,@@@", "base64"),
        ("data:text/html,<b>x</b>", "text/html"),
    ],
)
def test_refused_inputs_name_what_was_given(given: object, named: str) -> None:
    assert named in str(refused(given))


def test_an_svg_file_and_a_missing_file_are_refused(tmp_path: pathlib.Path) -> None:
    drawing = tmp_path / "plot.png"  # named like a PNG: the bytes decide
    drawing.write_bytes(SVG)

    assert "SVG" in str(refused(drawing))
    assert "no image file" in str(refused(str(tmp_path / "nothing.png")))


def test_a_huge_image_is_refused_before_it_is_decoded() -> None:
    # A PNG header claiming 20000 × 20000 pixels: Pillow reads the size without decoding.
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")

    assert "too large" in str(refused(bomb))


def test_a_bad_max_side_is_refused() -> None:
    with pytest.raises(InvalidImage, match="max_image_side"):
        to_image(flat(4, 4), max_side=typing.cast(int, "big"))
