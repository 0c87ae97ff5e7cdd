"""What a worker that handles a secret says when something it did not expect goes wrong.

Textual's own error screen prints a traceback with every local variable, which would show
a typed passphrase or a note's words. Workers that touch a secret therefore run with
`exit_on_error=False` and turn any failure into one line built here, which never holds
the secret.
"""

from __future__ import annotations

REDACTED = "…"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else ""


def failure_line(exc: BaseException, *secrets: str | None, doing: str = "check it") -> str:
    """One line about `exc`, with any of `secrets` cut out of it."""
    if isinstance(exc, MemoryError):
        detail = _first_line(exc) or "the system refused the memory"
        line = f"not enough memory to derive the key: {detail}"
    else:
        detail = _first_line(exc)
        line = f"could not {doing} ({type(exc).__name__}{': ' + detail if detail else ''})"
    for secret in secrets:
        if secret:
            line = line.replace(secret, REDACTED)
    return line
