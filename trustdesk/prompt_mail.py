"""A between-session prompt sent by email, and logged only once it has left.

The message is the one the prompt screen shows (trust.prompts.compose), with the
prompt's title as its subject so a reply ("Re: <title>") can be told apart from the
other prompts. It goes through mail_send (the server's sendmail or SMTP); only when the
server took it is the outbound touch logged, carrying the message's Message-ID so mail
sync can recognise the client's reply. A send that fails logs nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage

from trustdesk.config import Settings
from trustdesk.mail_send import SendError, mailbox, new_message, send_message
from trustdesk.store.models import Client, Coach
from trustdesk.trust.prompts import PromptError, compose, saved_prompt, send_prompt

NO_SENDER = "set your email first: trustdesk coach --email you@example.org"


@dataclass(frozen=True)
class SentPrompt:
    """A prompt that left by email: the touch logged for it, its Message-ID, its addressee."""

    touch_id: int
    message_id: str
    to: str  # "Kwame Mensah <kwame@example.org>"
    title: str


@dataclass(frozen=True)
class PromptEmail:
    """The message as it would go, before anything is sent."""

    message: EmailMessage
    to: str
    title: str

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def as_text(self) -> str:
        """Headers and body as they would go, decoded for reading (--dry-run)."""
        names = ("From", "To", "Subject", "Date", "Message-ID")
        head = "".join(f"{name}: {self.message[name]}\n" for name in names)
        return f"{head}\n{self.message.get_content().rstrip()}\n"


def sender_of(coach: Coach, settings: Settings) -> str:
    """ "Name <address>" the prompts are sent from: settings' mail_from, else the coach's email."""
    address = settings.mail_from.strip() or coach.email.strip()
    if not address:
        raise SendError(NO_SENDER)
    if "<" in address:  # mail_from already names its sender
        return address
    return mailbox(coach.name, address)


def prompt_email(
    coach: Coach,
    prompt_id: int,
    client_id: int,
    *,
    settings: Settings,
    body: str | None = None,
) -> PromptEmail:
    """Compose the prompt for the client as an email; SendError when it cannot go to them."""
    prompt = saved_prompt(coach, prompt_id)
    if prompt is None:
        raise PromptError("that prompt is not in your library")
    composed = compose(coach, prompt_id, client_id)
    sender = sender_of(coach, settings)
    client = Client.get_or_none((Client.id == client_id) & (Client.coach == coach))
    if client is None:
        raise PromptError("that client no longer exists")
    address = composed.to_email.strip()
    if not address:
        raise SendError(f"{one_line_name(client.name)} has no email address on file")
    to = mailbox(client.name, address)
    text = composed.body if body is None else body
    message = new_message(sender=sender, to=to, subject=prompt.title, body=text)
    return PromptEmail(message=message, to=str(message["To"]), title=prompt.title)


def one_line_name(name: str) -> str:
    return " ".join(name.split()) or "this client"


def send_prompt_by_email(
    coach: Coach,
    prompt_id: int,
    client_id: int,
    *,
    settings: Settings,
    today: dt.date,
    body: str | None = None,
) -> SentPrompt:
    """Send the prompt to the client's first email, then log it as sent, waiting for a reply.

    Nothing is logged unless the server took the message. Should the log itself then fail
    (the database gone away), the coach is told the message left but is not logged, so
    they can mark it as sent by hand rather than send it twice.
    """
    email = prompt_email(coach, prompt_id, client_id, settings=settings, body=body)
    send_message(email.message, settings)
    try:
        touch_id = send_prompt(
            coach, prompt_id, client_id, today, source="sent", message_id=email.message_id
        )
    except Exception as exc:  # noqa: BLE001 - whatever it was, the mail has left
        raise PromptError(
            f"the email to {email.to} left, but it was not logged ({exc});"
            " mark the prompt as sent by hand"
        ) from None
    return SentPrompt(
        touch_id=touch_id, message_id=email.message_id, to=email.to, title=email.title
    )
