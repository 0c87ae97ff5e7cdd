"""The screens of the trustdesk app."""
