"""Sending mail the way the server already does: its `sendmail -t`, or SMTP from settings.

Used for prompts sent by email and the morning digest. A message either goes or the
coach is told why in one line (SendError), and the caller records nothing: a prompt
that did not leave must not wait for a reply. The SMTP password is never a setting: it
lives in the keyring (`SMTP_KEYRING_USER` under trustdesk's service) or in a file only
the coach can read (`smtp_password_file`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from trustdesk import config
from trustdesk.config import Settings
from trustdesk.trust.common import ActionError

SMTP_KEYRING_USER = "smtp"
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
# A mail server that does not answer in this long is not going to: say so rather than hang.
TIMEOUT_SECONDS = 30


class SendError(ActionError):
    """The message was not sent; nothing was recorded. The text says why in one line."""


def one_line(text: str) -> str:
    """A name or subject as one header line: line breaks and runs of blanks become a space.

    A client's name or a prompt's title typed with a line break must never start a new
    header (that is how mail headers are forged); in a name or subject a space says the same.
    """
    return " ".join(text.split())


def mailbox(name: str, address: str) -> str:
    """ "Name <address>" with the name quoted or encoded as mail needs it."""
    from email.utils import formataddr

    return formataddr((one_line(name), address.strip()))


def new_message(*, sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message with its own Message-ID and Date, ready to send.

    An address that cannot go in a header (a line break in it) is refused in one line.
    """
    message = EmailMessage()
    try:
        message["From"] = sender
        message["To"] = to
        message["Subject"] = one_line(subject)
    except (ValueError, IndexError) as exc:
        why = _first_line(exc)
        raise SendError(f"cannot send: not a usable address or subject ({why})") from None
    message["Date"] = formatdate(config.now().timestamp(), localtime=True)  # the one clock
    domain = sender.rpartition("@")[2].strip("> ") or None
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(body)
    return message


def sending_path(settings: Settings) -> str:
    """ "sendmail" or "smtp": the setting, else sendmail when the system has one."""
    if settings.send_with:
        return settings.send_with
    if settings.smtp_host:
        return "smtp"
    if _sendmail_program(settings) is not None:
        return "sendmail"
    raise SendError(
        "no way to send mail: this server has no sendmail, and settings.toml names no"
        " smtp_host (see the README: sending mail)"
    )


def send_message(message: EmailMessage, settings: Settings) -> None:
    """Hand the message to the system's sendmail or to the SMTP server; SendError if not."""
    if sending_path(settings) == "sendmail":
        _by_sendmail(message, settings)
    else:
        _by_smtp(message, settings)


def _sendmail_program(settings: Settings) -> str | None:
    command = settings.sendmail_command or "sendmail"
    if os.sep in command:
        return command if os.access(command, os.X_OK) else None
    return shutil.which(command)


def _by_sendmail(message: EmailMessage, settings: Settings) -> None:
    program = _sendmail_program(settings)
    if program is None:
        raise SendError(f"cannot send: {settings.sendmail_command} is not a program here")
    try:
        done = subprocess.run(
            [program, "-t", "-i"],
            input=message.as_bytes(),
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SendError(f"cannot send: {program} did not finish in {TIMEOUT_SECONDS} s") from None
    except OSError as exc:
        raise SendError(f"cannot send: {program}: {exc.strerror}") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = said[-1] if said else f"it exited with {done.returncode}"
        raise SendError(f"cannot send: {os.path.basename(program)}: {reason}")


def smtp_password(settings: Settings) -> str | None:
    """The SMTP password from the private file, else the keyring; None when there is none."""
    if settings.smtp_password_file:
        from trustdesk.asking import AskError, read_secret_file

        try:
            return read_secret_file(settings.smtp_password_file, "SMTP password")
        except AskError as exc:
            raise SendError(f"cannot send: {exc}") from None
    from trustdesk.vault.keyring_access import KeyringUnavailable, get_secret

    try:
        return get_secret(SMTP_KEYRING_USER)
    except KeyringUnavailable as exc:
        raise SendError(f"cannot send: the SMTP password is in the keyring, but {exc}") from None


def _by_smtp(message: EmailMessage, settings: Settings) -> None:
    import smtplib
    import ssl

    if not settings.smtp_host:
        raise SendError("cannot send: settings.toml names no smtp_host")
    security = settings.smtp_security
    port = settings.smtp_port or DEFAULT_PORTS[security]
    where = f"{settings.smtp_host}:{port}"
    context = ssl.create_default_context()
    try:
        if security == "tls":
            server = smtplib.SMTP_SSL(
                settings.smtp_host, port, timeout=TIMEOUT_SECONDS, context=context
            )
        else:
            server = smtplib.SMTP(settings.smtp_host, port, timeout=TIMEOUT_SECONDS)
        with server:
            if security == "starttls":
                server.starttls(context=context)
            if settings.smtp_user:
                password = smtp_password(settings)
                if password is None:
                    raise SendError(
                        "cannot send: no SMTP password (store it with: trustdesk smtp password)"
                    )
                server.login(settings.smtp_user, password)
            server.send_message(message)
    except SendError:
        raise
    except smtplib.SMTPAuthenticationError:
        raise SendError(f"cannot send: {where} refused the user name or password") from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(sorted(exc.recipients))
        raise SendError(f"cannot send: {where} refused the address {refused}") from None
    except smtplib.SMTPNotSupportedError as exc:
        if "AUTH" in str(exc):  # a login asked of a server that offers none here
            raise SendError(
                f"cannot send: {where} does not offer a login (check smtp_user, smtp_security)"
            ) from None
        raise SendError(
            f"cannot send: {where} does not offer STARTTLS (set smtp_security)"
        ) from None
    except smtplib.SMTPException as exc:
        raise SendError(f"cannot send: {where}: {_first_line(exc)}") from None
    except ssl.SSLError as exc:
        raise SendError(f"cannot send: no secure connection to {where} ({exc.reason})") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SendError(f"cannot send: cannot reach {where}: {reason}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
