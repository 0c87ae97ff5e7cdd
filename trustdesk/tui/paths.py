"""Where the app's stylesheet lives, for an installed copy and a checkout alike."""

from __future__ import annotations

from importlib.resources import files


def stylesheet() -> str:
    return str(files("trustdesk.assets").joinpath("trustdesk.tcss"))
