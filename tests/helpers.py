"""Helpers shared by the command-line tests."""

from __future__ import annotations

TODAY = "2026-03-16"
PASSPHRASE = "a long walk on the beach"


def text(result):
    return result.stdout.decode(), result.stderr.decode()


def one_line_error(result, code=None):
    """Assert the command failed with exactly one `trustdesk: ...` line and no traceback."""
    out, err = text(result)
    assert result.returncode != 0, (out, err)
    if code is not None:
        assert result.returncode == code
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line]
    assert len(lines) == 1, err
    assert lines[0].startswith("trustdesk: ")
    return lines[0]
