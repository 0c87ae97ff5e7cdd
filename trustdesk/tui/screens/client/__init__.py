"""One client's workspace: the screen (`screen`) and a module per tab."""

from trustdesk.tui.screens.client.screen import HELP_SECTIONS, ClientScreen

__all__ = ["HELP_SECTIONS", "ClientScreen"]
