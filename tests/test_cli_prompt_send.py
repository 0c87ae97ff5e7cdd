"""A prompt sent by email: composed, sent, and only then logged as awaiting its reply.

The rule (send_prompt_by_email) on a fixed clock, through a fake sendmail and a real
SMTP server; then `trustdesk prompt send|list` and `trustdesk smtp` in-process.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import stat
import textwrap
from types import SimpleNamespace

import pytest

from trustdesk.config import Settings
from trustdesk.mail_send import SendError
from trustdesk.store.models import Client, Coach, Prompt, Touch
from trustdesk.trust.prompts import PromptError, add_prompt, awaiting_reply, find_prompt

D = dt.timedelta


def fake_sendmail(folder, script: str) -> str:
    path = folder / "sendmail"
    path.write_text("#!/bin/sh\n" + textwrap.dedent(script))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.fixture
def outbox(tmp_path):
    """A sendmail that keeps each message it is given as a file in outbox/."""
    box = tmp_path / "outbox"
    box.mkdir()
    program = fake_sendmail(tmp_path, f'cat > "{box}/$(date +%s%N)"\n')
    settings = dataclasses.replace(Settings(), send_with="sendmail", sendmail_command=program)
    return SimpleNamespace(dir=box, settings=settings)


def sent_messages(box) -> list:
    import email
    import email.policy

    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(box.iterdir())
    ]


def failing(tmp_path) -> Settings:
    program = fake_sendmail(tmp_path, "cat >/dev/null\necho 'relay refused' >&2\nexit 1\n")
    return dataclasses.replace(Settings(), send_with="sendmail", sendmail_command=program)


@pytest.fixture
def people(coach, today):
    """The coach with an email, Kwame with two, and a prompt of the coach's own."""
    Coach.update(email="morgan@example.org").where(Coach.id == coach.id).execute()
    coach = Coach.get_by_id(coach.id)
    kwame = Client.create(
        coach=coach,
        name="Kwame Mensah",
        email="kwame@example.org",
        more_emails="kwame@work.example",
        started_on=today - D(days=30),
    )
    prompt = Prompt.get_by_id(
        add_prompt(coach, "depth", "What mattered", "What mattered this week, {first_name}?")
    )
    return coach, kwame, prompt


def touches() -> list[Touch]:
    return list(Touch.select().order_by(Touch.id))


# --- the rule -------------------------------------------------------------------------------


def test_a_sent_prompt_is_logged_with_its_message_id_and_awaits_a_reply(people, today, outbox):
    from trustdesk.prompt_mail import send_prompt_by_email

    coach, kwame, prompt = people
    sent = send_prompt_by_email(coach, prompt.id, kwame.id, settings=outbox.settings, today=today)
    [message] = sent_messages(outbox.dir)
    assert message["To"] == "Kwame Mensah <kwame@example.org>" == sent.to
    assert message["From"] == "Morgan Reyes <morgan@example.org>"
    assert message["Subject"] == "What mattered"
    assert message["Message-ID"] == sent.message_id
    assert "What mattered this week, Kwame?" in message.get_content()
    [touch] = touches()
    assert touch.id == sent.touch_id
    assert (touch.channel, touch.direction, touch.source) == ("journal_prompt", "outbound", "sent")
    assert touch.message_id == sent.message_id and touch.prompt_id == prompt.id
    assert touch.occurred_on == today and touch.counts_for_cadence
    assert [w.prompt_id for w in awaiting_reply(coach, today, client_id=kwame.id)] == [prompt.id]


def test_the_edited_words_replace_the_composed_ones(people, today, outbox):
    from trustdesk.prompt_mail import send_prompt_by_email

    coach, kwame, prompt = people
    send_prompt_by_email(
        coach, prompt.id, kwame.id, settings=outbox.settings, today=today, body="Just this."
    )
    assert sent_messages(outbox.dir)[0].get_content().strip() == "Just this."


def test_mail_from_in_settings_wins_over_the_coachs_email(people, today, outbox):
    from trustdesk.prompt_mail import send_prompt_by_email

    coach, kwame, prompt = people
    settings = dataclasses.replace(outbox.settings, mail_from="Practice <desk@practice.example>")
    sent = send_prompt_by_email(coach, prompt.id, kwame.id, settings=settings, today=today)
    assert sent_messages(outbox.dir)[0]["From"] == "Practice <desk@practice.example>"
    assert sent.message_id.endswith("@practice.example>")


def test_a_failed_send_logs_nothing(people, today, tmp_path):
    from trustdesk.prompt_mail import send_prompt_by_email

    coach, kwame, prompt = people
    with pytest.raises(SendError, match=r"^cannot send: sendmail: relay refused$"):
        send_prompt_by_email(coach, prompt.id, kwame.id, settings=failing(tmp_path), today=today)
    assert touches() == []
    assert awaiting_reply(coach, today, client_id=kwame.id) == []


def test_no_sender_and_no_client_email_are_one_line_and_send_nothing(people, today, outbox):
    from trustdesk.prompt_mail import send_prompt_by_email

    coach, kwame, prompt = people
    Client.update(email="", more_emails="").where(Client.id == kwame.id).execute()
    with pytest.raises(SendError, match=r"^Kwame Mensah has no email address on file$"):
        send_prompt_by_email(coach, prompt.id, kwame.id, settings=outbox.settings, today=today)
    Coach.update(email="").where(Coach.id == coach.id).execute()
    with pytest.raises(SendError, match=r"^set your email first: trustdesk coach --email"):
        send_prompt_by_email(
            Coach.get_by_id(coach.id), prompt.id, kwame.id, settings=outbox.settings, today=today
        )
    assert touches() == [] and sent_messages(outbox.dir) == []


def test_a_name_or_title_with_line_breaks_injects_no_header(people, today, outbox):
    from trustdesk.prompt_mail import send_prompt_by_email

    coach, kwame, prompt = people
    Client.update(name="Kwame\r\nBcc: eve@evil.example").where(Client.id == kwame.id).execute()
    Prompt.update(title="Hello\nBcc: eve@evil.example").where(Prompt.id == prompt.id).execute()
    send_prompt_by_email(coach, prompt.id, kwame.id, settings=outbox.settings, today=today)
    [message] = sent_messages(outbox.dir)
    assert message.get_all("Bcc") is None
    assert [a.addr_spec for a in message["To"].addresses] == ["kwame@example.org"]
    assert message["Subject"] == "Hello Bcc: eve@evil.example"


def test_an_address_with_a_line_break_is_refused_in_one_line(people, today, outbox):
    from trustdesk.prompt_mail import send_prompt_by_email

    coach, kwame, prompt = people
    Client.update(email="kwame@example.org\nBcc: eve@evil.example").where(
        Client.id == kwame.id
    ).execute()
    with pytest.raises(SendError) as caught:
        send_prompt_by_email(coach, prompt.id, kwame.id, settings=outbox.settings, today=today)
    assert "\n" not in str(caught.value) and "not a usable address" in str(caught.value)
    assert touches() == [] and sent_messages(outbox.dir) == []


def test_through_a_real_smtp_server(people, today):
    pytest.importorskip("aiosmtpd")
    import mailserver

    from trustdesk.prompt_mail import send_prompt_by_email

    coach, kwame, prompt = people
    controller, inbox = mailserver.start()
    try:
        settings = dataclasses.replace(
            Settings(),
            send_with="smtp",
            smtp_host="127.0.0.1",
            smtp_port=controller.port,
            smtp_security="none",
        )
        sent = send_prompt_by_email(coach, prompt.id, kwame.id, settings=settings, today=today)
    finally:
        controller.stop()
    [got] = inbox.messages
    assert got.rcpt_tos == ["kwame@example.org"]
    assert got.message["Message-ID"] == sent.message_id == touches()[0].message_id


def test_prompts_are_found_by_id_or_an_unambiguous_part_of_the_title(people):
    coach, _, prompt = people
    other = add_prompt(coach, "depth", "What surprised you", "Anything?")
    assert find_prompt(coach, str(prompt.id)).prompt_id == prompt.id
    assert find_prompt(coach, "what MATTERED").prompt_id == prompt.id
    assert find_prompt(coach, "surprised").prompt_id == other
    with pytest.raises(PromptError, match=r"names 2 prompts: What mattered \(id \d+\)"):
        find_prompt(coach, "what")
    with pytest.raises(PromptError, match="no prompt called 'nothing like it'"):
        find_prompt(coach, "nothing like it")


# --- the command line, in-process ---------------------------------------------------------


@pytest.fixture
def practice(isolated_home, tmp_path, monkeypatch):
    """A practice file with Kwame and a prompt; settings send through a fake sendmail."""
    from trustdesk.store import ensure_coach, open_database

    path = isolated_home / "cli.sqlite3"
    database = open_database(path, create=True)
    coach = ensure_coach("Morgan Reyes", "morgan@example.org")
    Client.create(
        coach=coach, name="Kwame Mensah", email="kwame@example.org", started_on=dt.date(2026, 1, 5)
    )
    Client.create(coach=coach, name="Lin Wu", email="", started_on=dt.date(2026, 1, 5))
    add_prompt(coach, "depth", "What mattered", "What mattered this week, {first_name}?")
    database.close()
    box = tmp_path / "outbox"
    box.mkdir()
    program = fake_sendmail(tmp_path, f'cat > "{box}/$(date +%s%N)"\n')
    (isolated_home / "settings.toml").write_text(
        f'send_with = "sendmail"\nsendmail_command = "{program}"\n'
    )
    monkeypatch.setenv("TRUSTDESK_DB", str(path))
    monkeypatch.setenv("TRUSTDESK_TODAY", "2026-03-16")
    return path, box


def cli(capsys, *args):
    from trustdesk.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def logged(path) -> list[tuple]:
    from trustdesk.store import open_database

    database = open_database(path)
    try:
        return [
            (t.client.name, t.channel, t.source, t.message_id, t.occurred_on)
            for t in Touch.select().order_by(Touch.id)
        ]
    finally:
        database.close()


def test_prompt_send_says_where_it_went_and_logs_it(practice, capsys):
    path, box = practice
    code, out, err = cli(capsys, "prompt", "send", "kwame", "mattered")
    assert code == 0, err
    [message] = sent_messages(box)
    mid = message["Message-ID"]
    assert out == (
        f"Sent “What mattered” to Kwame Mensah <kwame@example.org> (message {mid});"
        " waiting for the reply.\n"
    )
    assert logged(path) == [("Kwame Mensah", "journal_prompt", "sent", mid, dt.date(2026, 3, 16))]


def test_prompt_send_json(practice, capsys):
    path, box = practice
    code, out, _ = cli(capsys, "prompt", "send", "Kwame", "What mattered", "--json")
    assert code == 0
    shown = json.loads(out)
    assert set(shown) == {"touch", "message_id", "to"}
    assert shown["to"] == "Kwame Mensah <kwame@example.org>"
    assert logged(path)[0][3] == shown["message_id"] == sent_messages(box)[0]["Message-ID"]


def test_a_dry_run_shows_the_message_and_sends_and_logs_nothing(practice, capsys):
    path, box = practice
    code, out, err = cli(capsys, "prompt", "send", "kwame", "mattered", "--dry-run")
    assert code == 0
    assert "To: Kwame Mensah <kwame@example.org>\nSubject: What mattered\n" in out
    assert "\n\nHi Kwame,\n\nWhat mattered this week, Kwame?" in out
    assert "nothing was sent" in err
    assert sent_messages(box) == [] and logged(path) == []


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (["nobody", "mattered"], "no client called 'nobody'"),
        (["kwame", "no such prompt"], "no prompt called 'no such prompt'"),
        (["lin", "mattered"], "Lin Wu has no email address on file"),
    ],
)
def test_prompt_send_errors_are_one_line_and_send_nothing(practice, capsys, words, says):
    path, box = practice
    code, out, err = cli(capsys, "prompt", "send", *words)
    assert code == 1 and out == ""
    assert err == f"trustdesk: {says}" + err.split(says, 1)[1] and err.count("\n") == 1
    assert sent_messages(box) == [] and logged(path) == []


def test_a_failed_send_on_the_command_line_logs_nothing(practice, capsys, isolated_home, tmp_path):
    path, box = practice
    program = fake_sendmail(tmp_path, "cat >/dev/null\necho 'relay refused' >&2\nexit 1\n")
    (isolated_home / "settings.toml").write_text(
        f'send_with = "sendmail"\nsendmail_command = "{program}"\n'
    )
    code, out, err = cli(capsys, "prompt", "send", "kwame", "mattered")
    assert (code, out, err) == (1, "", "trustdesk: cannot send: sendmail: relay refused\n")
    assert logged(path) == []


def test_edit_sends_the_edited_words_and_an_empty_message_cancels(
    practice, capsys, tmp_path, monkeypatch
):
    path, box = practice
    editing = tmp_path / "edit"
    editing.mkdir()
    editor = fake_sendmail(editing, 'printf "Short and kind.\\n" > "$1"\n')
    monkeypatch.setenv("VISUAL", editor)
    code, _, err = cli(capsys, "prompt", "send", "kwame", "mattered", "--edit")
    assert code == 0, err
    assert sent_messages(box)[0].get_content().strip() == "Short and kind."

    emptying = tmp_path / "empty"
    emptying.mkdir()
    monkeypatch.setenv("VISUAL", fake_sendmail(emptying, ': > "$1"\n'))
    code, out, err = cli(capsys, "prompt", "send", "kwame", "mattered", "--edit")
    assert (code, out) == (1, "") and "the message is empty; nothing was sent" in err
    assert len(sent_messages(box)) == 1 and len(logged(path)) == 1


def test_prompt_list_shows_ids_and_titles(practice, capsys):
    code, out, _ = cli(capsys, "prompt", "list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert {"id", "habit", "title", "stage_hint"} == set(rows[0])
    mine = [r for r in rows if r["title"] == "What mattered"]
    assert len(mine) == 1 and mine[0]["habit"] == "depth"
    assert len(rows) > 1  # the library came with it, as in the app
    code, out, _ = cli(capsys, "prompt", "list")
    assert f"{mine[0]['id']:>4}  depth      What mattered\n" in out


def test_smtp_password_from_a_file_goes_to_the_keyring(practice, capsys, memory_keyring, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("hunter2 but longer\n")
    secret.chmod(0o600)
    code, out, err = cli(capsys, "smtp", "password", "--password-file", str(secret))
    assert code == 0, err
    assert memory_keyring.get_password("trustdesk", "smtp") == "hunter2 but longer"
    assert "stored in the keyring" in out


def test_smtp_password_without_a_usable_keyring_stores_nothing(practice, capsys, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("x\n")
    secret.chmod(0o600)
    code, _, err = cli(capsys, "smtp", "password", "--password-file", str(secret))
    assert code == 1
    assert err.startswith("trustdesk: cannot keep the SMTP password in the keyring")
    assert err.count("\n") == 1


def test_smtp_test_sends_to_the_coach_or_the_address_given(practice, capsys):
    path, box = practice
    code, out, err = cli(capsys, "smtp", "test")
    assert code == 0, err
    assert out.startswith(
        "Sent a test message to Morgan Reyes <morgan@example.org> through sendmail"
    )
    code, out, _ = cli(capsys, "smtp", "test", "someone@example.net")
    assert code == 0 and "to someone@example.net" in out
    assert [m["To"] for m in sent_messages(box)] == [
        "Morgan Reyes <morgan@example.org>",
        "someone@example.net",
    ]
    assert logged(path) == []
