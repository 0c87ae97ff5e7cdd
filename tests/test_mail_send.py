"""Sending mail: through a real SMTP server on localhost, and through `sendmail -t`.

Every way it can fail ends in one line (SendError) naming why; the server in
tests/mailserver.py is aiosmtpd, with a self-signed certificate for STARTTLS and TLS.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
import subprocess
import textwrap

import pytest

pytest.importorskip("aiosmtpd")

import mailserver  # noqa: E402

from trustdesk.config import Settings  # noqa: E402
from trustdesk.mail_send import (  # noqa: E402
    SMTP_KEYRING_USER,
    SendError,
    mailbox,
    new_message,
    send_message,
    sending_path,
    smtp_password,
)

SENDER = "Ana Coach <ana@example.org>"


def message(to="Kwame Mensah <kwame@example.org>", subject="A question", body="Hi Kwame"):
    return new_message(sender=SENDER, to=to, subject=subject, body=body)


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    return mailserver.self_signed(tmp_path_factory.mktemp("cert"))


@pytest.fixture
def trust_cert(cert, monkeypatch):
    """The client trusts the test certificate (OpenSSL reads SSL_CERT_FILE for its CAs)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    return cert


@pytest.fixture
def server(request, cert):
    """A running server; parametrise indirectly with (security, auth)."""
    security, auth = getattr(request, "param", ("none", False))
    controller, inbox = mailserver.start(
        security=security, auth=auth, cert=cert if security != "none" else None
    )
    yield controller, inbox
    controller.stop()


def smtp(controller, **kw) -> Settings:
    return dataclasses.replace(
        Settings(),
        send_with="smtp",
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        smtp_security=kw.pop("security", "none"),
        **kw,
    )


def password_file(tmp_path, text=mailserver.PASSWORD):
    path = tmp_path / "smtp-password"
    path.write_text(text + "\n")
    path.chmod(0o600)
    return str(path)


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and text.startswith("cannot send")
    return text


# --- composing ----------------------------------------------------------------------


def test_a_new_message_has_its_own_id_and_date():
    first, second = message(), message()
    assert first["Message-ID"] != second["Message-ID"]
    assert first["Message-ID"].endswith("@example.org>")
    assert first["Date"] and first["Subject"] == "A question"
    assert first.get_content().strip() == "Hi Kwame"


def test_line_breaks_in_a_name_or_subject_never_start_a_header():
    sent = new_message(
        sender=SENDER,
        to=mailbox("Kwame\r\nBcc: eve@evil.example", "kwame@example.org"),
        subject="Hello\nBcc: eve@evil.example",
        body="hi",
    )
    raw = sent.as_string()
    assert "\nBcc:" not in raw and "\rBcc:" not in raw
    assert sent["Subject"] == "Hello Bcc: eve@evil.example"
    assert sent["To"].addresses[0].addr_spec == "kwame@example.org"


@pytest.mark.parametrize(
    "to", ["kwame@example.org\r\nBcc: eve@evil.example", "kwame@example.org\nX: y"]
)
def test_a_line_break_in_an_address_is_refused_in_one_line(to):
    with pytest.raises(SendError) as exc:
        new_message(sender=SENDER, to=to, subject="s", body="b")
    assert "not a usable address" in one_line(exc)


def test_a_name_with_accents_and_quotes_is_encoded():
    sent = message(to=mailbox('Zoë "Z" Ndiaye', "zoe@example.org"))
    assert sent["To"].addresses[0].display_name == 'Zoë "Z" Ndiaye'
    assert sent["To"].addresses[0].addr_spec == "zoe@example.org"


# --- SMTP, plain ------------------------------------------------------------------------


def test_smtp_delivers_the_message_as_composed(server):
    controller, inbox = server
    sent = message()
    send_message(sent, smtp(controller))
    [got] = inbox.messages
    assert got.rcpt_tos == ["kwame@example.org"]
    assert got.mail_from == "ana@example.org"
    assert got.message["Message-ID"] == sent["Message-ID"]
    assert got.message["Subject"] == "A question"
    assert got.message.get_content().strip() == "Hi Kwame"


def test_a_refused_recipient_is_one_line_naming_it(server):
    controller, inbox = server
    with pytest.raises(SendError) as exc:
        send_message(message(to="Nobody <nobody@refused.example>"), smtp(controller))
    assert f"127.0.0.1:{controller.port} refused the address nobody@refused.example" in one_line(
        exc
    )
    assert inbox.messages == []


def test_an_unreachable_host_is_one_line():
    settings = dataclasses.replace(
        Settings(),
        send_with="smtp",
        smtp_host="127.0.0.1",
        smtp_port=mailserver.free_port(),
        smtp_security="none",
    )
    with pytest.raises(SendError) as exc:
        send_message(message(), settings)
    assert f"cannot reach 127.0.0.1:{settings.smtp_port}" in one_line(exc)


def test_starttls_asked_of_a_server_without_it_is_one_line(server):
    controller, inbox = server
    with pytest.raises(SendError) as exc:
        send_message(message(), smtp(controller, security="starttls"))
    assert "does not offer STARTTLS" in one_line(exc)
    assert inbox.messages == []


def test_no_smtp_host_is_one_line():
    with pytest.raises(SendError) as exc:
        send_message(message(), dataclasses.replace(Settings(), send_with="smtp"))
    assert "names no smtp_host" in one_line(exc)


# --- SMTP with TLS and a login -------------------------------------------------------------


@pytest.mark.parametrize("server", [("starttls", True)], indirect=True)
def test_starttls_then_login_with_the_password_file(server, trust_cert, tmp_path):
    controller, inbox = server
    settings = smtp(
        controller,
        security="starttls",
        smtp_user=mailserver.USER,
        smtp_password_file=password_file(tmp_path),
    )
    send_message(message(), settings)
    assert inbox.logins == [mailserver.USER]
    assert len(inbox.messages) == 1


@pytest.mark.parametrize("server", [("tls", True)], indirect=True)
def test_tls_then_login_with_the_password_in_the_keyring(server, trust_cert, memory_keyring):
    controller, inbox = server
    memory_keyring.set_password("trustdesk", SMTP_KEYRING_USER, mailserver.PASSWORD)
    send_message(message(), smtp(controller, security="tls", smtp_user=mailserver.USER))
    assert inbox.logins == [mailserver.USER]
    assert len(inbox.messages) == 1


@pytest.mark.parametrize("server", [("starttls", True)], indirect=True)
def test_a_refused_login_is_one_line(server, trust_cert, tmp_path):
    controller, inbox = server
    settings = smtp(
        controller,
        security="starttls",
        smtp_user=mailserver.USER,
        smtp_password_file=password_file(tmp_path, "wrong"),
    )
    with pytest.raises(SendError) as exc:
        send_message(message(), settings)
    assert "refused the user name or password" in one_line(exc)
    assert inbox.messages == []


@pytest.mark.parametrize("server", [("starttls", True)], indirect=True)
def test_no_password_anywhere_is_one_line(server, trust_cert):
    controller, inbox = server
    settings = smtp(controller, security="starttls", smtp_user=mailserver.USER)
    with pytest.raises(SendError) as exc:
        send_message(message(), settings)
    assert "no SMTP password (store it with: trustdesk smtp password)" in one_line(exc)
    assert inbox.messages == []


def test_a_login_asked_of_a_server_offering_none_is_one_line(server, tmp_path):
    controller, inbox = server
    settings = smtp(
        controller, smtp_user=mailserver.USER, smtp_password_file=password_file(tmp_path)
    )
    with pytest.raises(SendError) as exc:
        send_message(message(), settings)
    assert "does not offer a login" in one_line(exc)
    assert inbox.messages == []


@pytest.mark.parametrize("server", [("tls", False)], indirect=True)
def test_a_certificate_nobody_vouches_for_is_one_line(server):
    controller, inbox = server
    with pytest.raises(SendError) as exc:
        send_message(message(), smtp(controller, security="tls"))
    assert "no secure connection to" in one_line(exc)
    assert inbox.messages == []


def test_a_password_file_others_can_read_is_refused(tmp_path):
    path = password_file(tmp_path)
    os.chmod(path, 0o644)
    settings = dataclasses.replace(Settings(), smtp_password_file=path)
    with pytest.raises(SendError) as exc:
        smtp_password(settings)
    assert "SMTP password file" in one_line(exc)


# --- sendmail -t --------------------------------------------------------------------------


def fake_sendmail(tmp_path, script: str) -> str:
    path = tmp_path / "sendmail"
    path.write_text("#!/bin/sh\n" + textwrap.dedent(script))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_sendmail_gets_the_message_on_stdin_with_t_and_i(tmp_path):
    out = tmp_path / "out"
    program = fake_sendmail(tmp_path, f'echo "$@" > {out}.args\ncat > {out}\n')
    settings = dataclasses.replace(Settings(), send_with="sendmail", sendmail_command=program)
    sent = message()
    send_message(sent, settings)
    assert (tmp_path / "out.args").read_text().split() == ["-t", "-i"]
    assert sent["Message-ID"] in out.read_text()
    assert "To: Kwame Mensah <kwame@example.org>" in out.read_text()


def test_a_failing_sendmail_says_its_last_line(tmp_path):
    program = fake_sendmail(
        tmp_path, 'cat >/dev/null\necho "warming up" >&2\necho "no relay" >&2\nexit 75\n'
    )
    settings = dataclasses.replace(Settings(), send_with="sendmail", sendmail_command=program)
    with pytest.raises(SendError) as exc:
        send_message(message(), settings)
    assert one_line(exc) == "cannot send: sendmail: no relay"


def test_a_silent_failing_sendmail_says_its_exit_code(tmp_path):
    program = fake_sendmail(tmp_path, "exit 3\n")
    settings = dataclasses.replace(Settings(), send_with="sendmail", sendmail_command=program)
    with pytest.raises(SendError) as exc:
        send_message(message(), settings)
    assert one_line(exc) == "cannot send: sendmail: it exited with 3"


def test_no_sendmail_program_is_one_line(tmp_path):
    settings = dataclasses.replace(
        Settings(), send_with="sendmail", sendmail_command=str(tmp_path / "none")
    )
    with pytest.raises(SendError) as exc:
        send_message(message(), settings)
    assert "is not a program here" in one_line(exc)


def test_the_sending_path_prefers_the_setting_then_smtp_then_sendmail(tmp_path):
    program = fake_sendmail(tmp_path, "exit 0\n")
    assert sending_path(dataclasses.replace(Settings(), smtp_host="mail.example")) == "smtp"
    assert sending_path(dataclasses.replace(Settings(), sendmail_command=program)) == "sendmail"
    nothing = dataclasses.replace(Settings(), sendmail_command=str(tmp_path / "none"))
    with pytest.raises(SendError, match="no way to send mail"):
        sending_path(nothing)


MSMTP = shutil.which("msmtp")


@pytest.mark.skipif(MSMTP is None, reason="msmtp is not installed (CI installs it)")
def test_sendmail_t_through_msmtp_reaches_the_server(server, tmp_path):
    controller, inbox = server
    config = tmp_path / "msmtprc"
    config.write_text(
        "account default\n"
        "host 127.0.0.1\n"
        f"port {controller.port}\n"
        "auth off\ntls off\n"
        "from ana@example.org\n"
    )
    config.chmod(0o600)
    program = fake_sendmail(tmp_path, f'exec {MSMTP} -C {config} "$@"\n')
    settings = dataclasses.replace(Settings(), send_with="sendmail", sendmail_command=program)
    sent = message()
    send_message(sent, settings)
    [got] = inbox.messages
    assert got.rcpt_tos == ["kwame@example.org"]
    assert got.message["Message-ID"] == sent["Message-ID"]

    with pytest.raises(SendError) as exc:
        send_message(message(to="nobody@refused.example"), settings)
    assert one_line(exc).startswith("cannot send: sendmail: ")
    assert len(inbox.messages) == 1
    subprocess.run([MSMTP, "--version"], capture_output=True, check=True)
