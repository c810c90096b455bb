"""Scaling and the choice of format: what leaves the kernel for a model."""

from __future__ import annotations

import io
import typing

from PIL import Image as PILImage
from tests.pictures import decoded, encoded, flat, photo, with_exif_rotation

from nbchat.images import MAX_SIDE, PNG_LIMIT, to_image


def test_a_4000_by_3000_photo_is_scaled_to_1568_on_its_longest_side() -> None:
    image = to_image(encoded(photo(4000, 3000), "JPEG", quality=90))

    assert MAX_SIDE == 1568
    assert (image.width, image.height) == (1568, 1176)
    assert decoded(image.data) == ("JPEG", (1568, 1176))
    assert len(image.data) < 600_000  # what a comm, or a request, should carry


def test_a_tall_image_is_scaled_on_its_height() -> None:
    image = to_image(flat(300, 2000))

    assert (image.width, image.height) == (235, 1568)


def test_a_plot_stays_png_lossless_when_small() -> None:
    pixels = flat(2400, 1200)
    image = to_image(pixels)

    assert decoded(image.data) == ("PNG", (1568, 784))
    assert len(image.data) <= PNG_LIMIT


def test_a_small_png_or_jpeg_is_sent_as_it_is() -> None:
    png = encoded(flat(640, 480), "PNG")
    jpeg = encoded(photo(640, 480), "JPEG")

    assert to_image(png).data == png
    assert to_image(jpeg).data == jpeg


def test_metadata_never_leaves_with_the_image() -> None:
    # A small upright photo with a location, and a PNG with an XMP packet: re-encoded bare.
    picture = PILImage.fromarray(photo(640, 480))
    exif = picture.getexif()
    exif[0x8825] = {2: (48.0, 51.0, 24.0)}  # GPSInfo: latitude
    exif[0x0110] = "Phone X"  # camera model
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif)
    tagged_png = io.BytesIO()
    PILImage.fromarray(flat(64, 48)).save(tagged_png, "PNG", pnginfo=_xmp("<x:xmpmeta/>"))

    for given in (out.getvalue(), tagged_png.getvalue()):
        sent = to_image(given)
        assert sent.data != given
        with PILImage.open(io.BytesIO(sent.data)) as again:
            assert not again.getexif()
            assert not {"exif", "xmp", "XML:com.adobe.xmp"} & set(again.info)
            assert again.size == PILImage.open(io.BytesIO(given)).size


def _xmp(packet: str) -> typing.Any:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", packet)
    return info


def test_a_photo_given_as_png_goes_as_jpeg_when_png_would_be_heavy() -> None:
    image = to_image(encoded(photo(1500, 1000), "PNG"))  # ~4 MB of PNG

    assert decoded(image.data) == ("JPEG", (1500, 1000))
    assert len(image.data) < PNG_LIMIT


def test_transparency_is_kept_in_png_and_flattened_on_white_in_jpeg() -> None:
    clear = PILImage.new("RGBA", (40, 40), (0, 0, 0, 0))
    as_png = to_image(clear)
    noisy = PILImage.fromarray(photo(1500, 1000)).convert("RGBA")
    noisy.putalpha(0)
    as_jpeg = to_image(noisy)

    with PILImage.open(io.BytesIO(as_png.data)) as picture:
        assert picture.mode == "RGBA"
        assert picture.getpixel((0, 0))[3] == 0
    assert as_jpeg.mime == "image/jpeg"
    with PILImage.open(io.BytesIO(as_jpeg.data)) as picture:
        assert picture.getpixel((10, 10)) == (255, 255, 255)


def test_a_phone_photo_is_turned_upright() -> None:
    sideways = with_exif_rotation(photo(60, 40), 6)  # stored 60 × 40, shown 40 × 60

    image = to_image(sideways)

    assert (image.width, image.height) == (40, 60)
    assert decoded(image.data) == ("JPEG", (40, 60))


def test_max_side_is_the_caller_s() -> None:
    assert decoded(to_image(flat(1000, 500), max_side=512).data) == ("PNG", (512, 256))
