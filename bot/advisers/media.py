"""Pictures for advisers: the QR code of their link, the chart of their figures. Drawn in
a worker thread by the channel (they take a moment)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

from knowledge.text import strip_accents


def qr_png(url: str) -> bytes:
    """A printable QR code of the link (high error correction survives poor printing)."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_H

    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_H, box_size=12, border=4)
    qr.add_data(url)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


COLOURS = ("#4C72B0", "#55A868", "#C44E52", "#8172B2")


def chart_png(table: dict[str, dict[str, int]], title: str, labels: dict[str, str]) -> bytes:
    """A group of bars a week, one bar a stage (`labels`: stage → legend), drawn with
    Pillow (already installed for the QR code): matplotlib, for this one chart, weighed
    about 74 MB in every install."""
    from PIL import Image, ImageDraw, ImageFont

    width, height, left, bottom, top = 780, 400, 60, 60, 50
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    try:  # DejaVu, when the system has it, draws "é" and "ç"
        font: ImageFont.FreeTypeFont | ImageFont.ImageFont = ImageFont.truetype(
            "DejaVuSans.ttf", 14
        )
        small: ImageFont.FreeTypeFont | ImageFont.ImageFont = ImageFont.truetype(
            "DejaVuSans.ttf", 12
        )
        label: Callable[[str], str] = str
    except OSError:  # Pillow's own font has no accented letters: write them without
        font, small = ImageFont.load_default(size=14), ImageFont.load_default(size=12)
        label = strip_accents
    weeks = list(table)
    peak = max([1, *(table[w][s] for w in weeks for s in labels)])
    plot_h = height - top - bottom
    draw.text((left, 12), label(title), fill="black", font=font)
    draw.line((left, top, left, height - bottom), fill="black")
    draw.line((left, height - bottom, width - 20, height - bottom), fill="black")
    draw.text((8, top - 6), str(peak), fill="black", font=small)
    draw.text((8, height - bottom - 8), "0", fill="black", font=small)
    group = (width - left - 40) / max(1, len(weeks))
    bar = group * 0.8 / len(labels)
    for i, week in enumerate(weeks):
        x0 = left + 10 + i * group
        for j, stage in enumerate(labels):
            value = table[week][stage]
            h = plot_h * value / peak
            x = x0 + j * bar
            draw.rectangle((x, height - bottom - h, x + bar - 2, height - bottom), fill=COLOURS[j])
            if value:
                draw.text((x, height - bottom - h - 14), str(value), fill="black", font=small)
        draw.text(
            (x0, height - bottom + 6), f"sem. du {monday(week):%d/%m}", fill="black", font=small
        )
    x = 20
    for j, stage in enumerate(labels):
        text = label(labels[stage])
        draw.rectangle((x, height - 26, x + 12, height - 14), fill=COLOURS[j])
        draw.text((x + 16, height - 28), text, fill="black", font=small)
        x += 16 + draw.textlength(text, font=small) + 18
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def monday(week: str) -> dt.date:
    return dt.date.fromisocalendar(int(week[:4]), int(week[-2:]), 1)
