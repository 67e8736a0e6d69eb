"""The URL to open, as a QR code in text for the log: a headset or a phone reads it
off the terminal instead of someone typing a token.

Two modules a character (half blocks), light modules drawn and dark ones left blank,
so on a terminal with a dark background the code shows dark on light, as readers
expect, with a light quiet zone around it.
"""

from __future__ import annotations

import segno

_HALVES = {(True, True): "\u2588", (True, False): "\u2580", (False, True): "\u2584", (False, False): " "}


def qr_text(data: str, border: int = 2) -> str:
    """``data`` as QR code lines (error correction M)."""
    code = segno.make(data, error="m", boost_error=False)
    rows = [[not bool(v) for v in row] for row in code.matrix_iter(border=border)]
    if len(rows) % 2:
        rows.append([True] * len(rows[0]))   # quiet zone
    return "\n".join("".join(_HALVES[(top, bottom)] for top, bottom in zip(upper, lower))
                     for upper, lower in zip(rows[0::2], rows[1::2]))
