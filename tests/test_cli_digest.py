"""`trustdesk digest`: to stdout, as JSON, and mailed through a fake `sendmail -t` and a real
SMTP server on localhost; silent when there is nothing to say, one line when it cannot send.
A subprocess each time: what cron runs is the process itself."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import stat

import pytest
from helpers import one_line_error, text

LATER = "2026-06-01"  # long after `init`'s client was added: Ann is gone quiet by then


@pytest.fixture
def practice(initialised):
    result = initialised("client", "add", "Ann\x1b[2J Lee", "--today", "2026-03-16")
    assert result.returncode == 0, text(result)
    return initialised


def settings(home, **values) -> None:
    lines = [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    (home / "settings.toml").write_text("\n".join(lines) + "\n")


@pytest.fixture
def fake_sendmail(tmp_path):
    """A sendmail that keeps what it is given (and its arguments) in files."""
    kept = tmp_path / "sent.eml"
    script = tmp_path / "sendmail"
    script.write_text(f'#!/bin/sh\necho "$@" > {kept}.args\ncat > {kept}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, kept


def test_the_digest_prints_to_stdout_and_as_json(practice):
    out, err = text(practice("digest", "--today", LATER))
    assert err == ""
    assert out.startswith("Good morning. Monday 01 June 2026\n")
    assert "\nDue for contact\n  Ann\\x1b[2J Lee: quiet, 77 days since contact\n" in out
    assert max(len(line) for line in out.splitlines()) <= 72

    data = json.loads(practice("digest", "--json", "--today", LATER).stdout)
    assert data["empty"] is False
    assert data["subject"] == "trustdesk: 1 to contact"
    assert [c["client"] for c in data["due_for_contact"]] == ["Ann\x1b[2J Lee"]
    assert data["promises_overdue"] == [] and data["awaiting_reply"] == []
    assert {"today", "sessions", "promises_due_today", "awaiting_outcome", "fell"} <= set(data)


def test_nothing_to_say_prints_and_sends_nothing(initialised, isolated_home, fake_sendmail):
    script, kept = fake_sendmail
    settings(isolated_home, send_with="sendmail", sendmail_command=str(script),
             mail_from="morgan@example.com")  # fmt: skip
    for args in (("digest",), ("digest", "--mail")):
        result = initialised(*args)
        assert result.returncode == 0, text(result)
        assert text(result) == ("", "")
    assert not kept.exists()
    assert json.loads(initialised("digest", "--json").stdout)["empty"] is True


def test_mail_goes_through_sendmail_to_the_coach(practice, isolated_home, fake_sendmail):
    script, kept = fake_sendmail
    settings(isolated_home, send_with="sendmail", sendmail_command=str(script))
    assert practice("coach", "--email", "morgan@example.com").returncode == 0

    result = practice("digest", "--mail", "--today", LATER)
    assert result.returncode == 0, text(result)
    assert text(result) == ("", "")  # cron hears nothing when all went well
    assert kept.with_suffix(".eml.args").read_text().split() == ["-t", "-i"]
    message = email.message_from_bytes(kept.read_bytes(), policy=email.policy.default)
    assert message["To"] == "morgan@example.com" == message["From"]
    assert message["Subject"] == "trustdesk: 1 to contact"
    assert message["Message-ID"]
    body = message.get_content()
    assert "Ann\\x1b[2J Lee: quiet" in body and "\x1b" not in body


def test_mail_from_wins_over_the_coach_email(practice, isolated_home, fake_sendmail):
    script, kept = fake_sendmail
    settings(isolated_home, send_with="sendmail", sendmail_command=str(script),
             mail_from="desk@example.org")  # fmt: skip
    practice("coach", "--email", "morgan@example.com")
    assert practice("digest", "--mail", "--today", LATER).returncode == 0
    message = email.message_from_bytes(kept.read_bytes(), policy=email.policy.default)
    assert message["To"] == "desk@example.org"


def test_no_address_or_a_failed_send_is_one_line(practice, isolated_home, tmp_path):
    failing = tmp_path / "sendmail"
    failing.write_text('#!/bin/sh\ncat > /dev/null\necho "sendmail: relay refused" >&2\nexit 75\n')
    failing.chmod(0o700)
    settings(isolated_home, send_with="sendmail", sendmail_command=str(failing))

    line = one_line_error(practice("digest", "--mail", "--today", LATER))
    assert "trustdesk coach --email" in line
    # Asked even on a quiet morning: a digest that can never go says so at once.
    one_line_error(practice("digest", "--mail"))

    practice("coach", "--email", "morgan@example.com")
    result = practice("digest", "--mail", "--today", LATER)
    assert one_line_error(result, 1) == "trustdesk: cannot send: sendmail: sendmail: relay refused"
    assert result.stdout == b""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mail_goes_through_a_real_smtp_server(practice, isolated_home):
    pytest.importorskip("aiosmtpd")
    from aiosmtpd.controller import Controller

    received = []

    class Keep:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    port = _free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings(isolated_home, send_with="smtp", smtp_host="127.0.0.1", smtp_port=port,
                 smtp_security="none", mail_from="morgan@example.com")  # fmt: skip
        result = practice("digest", "--mail", "--today", LATER)
        assert result.returncode == 0, text(result)
    finally:
        controller.stop()
    (envelope,) = received
    assert envelope.rcpt_tos == ["morgan@example.com"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["Subject"] == "trustdesk: 1 to contact"
    assert "Due for contact" in message.get_content()


def test_smtp_that_does_not_answer_is_one_line(practice, isolated_home):
    settings(isolated_home, send_with="smtp", smtp_host="127.0.0.1", smtp_port=_free_port(),
             smtp_security="none", mail_from="morgan@example.com")  # fmt: skip
    line = one_line_error(practice("digest", "--mail", "--today", LATER), 1)
    assert line.startswith("trustdesk: cannot send: cannot reach 127.0.0.1:")
