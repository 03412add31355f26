"""RGB colours and the HLS arithmetic that themes, uploads and describe share."""

from __future__ import annotations

import colorsys

RGB = tuple[int, int, int]


def hls(hue: float, lightness: float, saturation: float) -> RGB:
    red, green, blue = colorsys.hls_to_rgb(hue % 1.0, lightness, saturation)
    return round(red * 255), round(green * 255), round(blue * 255)


def to_hls(colour: RGB) -> tuple[float, float, float]:
    return colorsys.rgb_to_hls(*(channel / 255 for channel in colour))


def shift_hue(colour: RGB, shift: float) -> RGB:
    hue, lightness, saturation = to_hls(colour)
    return hls(hue + shift, lightness, saturation)


def luminance(colour: RGB) -> float:
    red, green, blue = colour
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255
