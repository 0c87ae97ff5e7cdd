"""trustdesk: a calm terminal dashboard for professional coaches."""

__version__ = "0.1.0"
