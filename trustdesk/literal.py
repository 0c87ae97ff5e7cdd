"""Showing what a coach typed exactly as typed, without letting it drive the terminal.

A client's name could hold an escape sequence or a right-to-left override, pasted
from an email by accident or on purpose. Stored text is never changed; it is made
visible only at the moment it is shown.
"""

from __future__ import annotations

import unicodedata

# Joiners shape emoji and scripts; they cannot move the cursor or reorder a line.
_HARMLESS_FORMAT = {"\u200c", "\u200d"}


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch == "\n":
        return "\\n"
    if ch == "\t":
        return "\\t"
    if ch == "\r":
        return "\\r"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def needs_escape(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category == "Cc":
        return True
    if category == "Cf":
        return ch not in _HARMLESS_FORMAT
    return category in ("Zl", "Zp")


def visible(text: str) -> str:
    """The text with control, bidi and line-separator characters shown as escapes."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if needs_escape(ch):
            out.append(_escape(ch))
        else:
            out.append(ch)
    return "".join(out)
