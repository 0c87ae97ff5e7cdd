"""Showing what a coach typed exactly as typed, without letting it drive the terminal.

A client's name could hold an escape sequence or a right-to-left override, pasted
from an email by accident or on purpose. Stored text is never changed; it is made
visible only at the moment it is shown.
"""

from __future__ import annotations

import json
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


def for_terminal(text: str) -> str:
    """Text for a person at a terminal: lines kept, every other control character made visible.

    Every message, list, report and page trustdesk writes for a person goes through this
    (or through `visible` for a single line), so nothing a coach or a file typed can move the
    cursor, retitle the window, write the clipboard or reorder a line.
    """
    if text.isprintable():
        return text
    return "\n".join(visible(line) for line in text.split("\n"))


# --- spreadsheet cells ---------------------------------------------------------------------

# Spreadsheets skip blanks and invisible characters before a formula, and read the
# fullwidth and small forms of = + - @ (and the minus sign) as the signs themselves.
_FORMULA_SIGNS = frozenset("=+-@\u2212")


def _skipped_before_formula(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def runs_as_formula(text: str) -> bool:
    """Whether a spreadsheet could run this cell as a formula."""
    for ch in text:
        if _skipped_before_formula(ch):
            continue
        return ch in _FORMULA_SIGNS or unicodedata.normalize("NFKC", ch)[:1] in _FORMULA_SIGNS
    return False


def guarded_cell(text: str) -> str:
    """The cell with one apostrophe in front if it could run as a formula or starts with one.

    unguarded_cell(guarded_cell(t)) == t for every text t.
    """
    if text.startswith("'") or runs_as_formula(text):
        return "'" + text
    return text


def unguarded_cell(cell: str) -> str:
    """The text a guarded cell stands for: one apostrophe comes off only where guarded_cell
    would have put it, so an apostrophe typed before ordinary text in any other file stays."""
    if cell.startswith("'"):
        rest = cell[1:]
        if rest.startswith("'") or runs_as_formula(rest):
            return rest
    return cell


def json_text(value: object, **options) -> str:
    """JSON in plain printable ASCII, for a file or a terminal alike: `ensure_ascii`
    escapes everything past ASCII but leaves DEL raw, so it is escaped here too."""
    return json.dumps(value, ensure_ascii=True, **options).replace("\x7f", "\\u007f")
