"""The command palette (Ctrl+P): jump to a client, log a touch, add a promise or a note, lock.

Client names are looked up in a thread, never on the UI thread, and only the first
few matches are offered, so the palette stays quick on a practice of any size.
"""

from __future__ import annotations

import asyncio
from functools import partial

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

from trustdesk.literal import visible
from trustdesk.tui.flows import clients as client_flows
from trustdesk.tui.flows import contact as contact_flows
from trustdesk.tui.flows import notes as note_flows
from trustdesk.tui.flows import promises as promise_flows
from trustdesk.tui.flows.coach import rename_coach
from trustdesk.tui.flows.prompts import log_reply_flow
from trustdesk.tui.screens.base import trustdesk_app

MATCHES = 8


class TrustdeskCommands(Provider):
    """Practice-wide commands, and per-client commands for the clients whose names match."""

    def _general(self) -> list[tuple[str, object, str]]:
        app = trustdesk_app(self.app)
        commands = [
            ("Lock notes now", app.action_lock, "Forget the notes key until you unlock again"),
            ("Unlock notes", app.request_unlock, "Type your passphrase to open private notes"),
            ("Keys and help", app.action_help, "Every key trustdesk understands"),
            (
                "Undo last close",
                app.action_undo,
                "Open again the promise last marked done, dropped or renegotiated (u)",
            ),
            ("Search notes", partial(_search_notes, app), "Find words in every private note"),
            ("Prompts awaiting a reply", partial(_awaiting, app), "Prompts nobody answered yet"),
            ("Agenda", partial(_agenda, app), "Today's sessions, and those waiting for an outcome"),
            ("Programs", partial(_screen, app, "programs"), "Your programs and their stages"),
            ("References", partial(_screen, app, "references"), "Clients who agreed to be one"),
            (
                "New client",
                partial(client_flows.new_client, app, app.practice_changed),
                "Add a client: name, contacts, program, cadence",
            ),
            (
                "Check the practice",
                app.check_practice,
                "Check what the dashboard keeps against your records, and rebuild it (K)",
            ),
            (
                "Your name",
                partial(rename_coach, app),
                "The name and email your prompts are signed with",
            ),
        ]
        return commands

    async def discover(self) -> Hits:
        for name, callback, help_text in self._general():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._general():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
        words = query.strip()
        if len(words) < 2:
            return
        clients = await asyncio.to_thread(self._clients, words)
        for rank, (client_id, client_name) in enumerate(clients):
            shown = visible(client_name)
            for order, (verb, action, help_text) in enumerate(
                self._client_actions(client_id, client_name)
            ):
                # Opening the best match comes first; then its actions, then the next client.
                score = 0.9 - rank * 0.05 - order * 0.01
                label = Text(f"{verb} {shown}")
                yield Hit(score, label, action, text=f"{verb} {shown}", help=help_text)

    def _clients(self, name_filter: str) -> list[tuple[int, str]]:
        from trustdesk.trust.dashboard import client_page

        app = trustdesk_app(self.app)
        page = app.fetch(client_page, app.coach, app.today, name_filter=name_filter, limit=MATCHES)
        return [(row.client_id, row.name) for row in page.rows]

    def _client_actions(self, client_id: int, client_name: str):
        app = trustdesk_app(self.app)
        refresh = app.practice_changed
        return [
            ("Open", partial(_open_client, app, client_id), "The client's workspace"),
            (
                "Log a touch with",
                partial(contact_flows.log_touch, app, client_id, client_name, refresh),
                "Record an email, call or message",
            ),
            (
                "Schedule a session with",
                partial(_schedule, app, client_id, client_name, refresh),
                "A session on a day and at a time (warns if it overlaps another)",
            ),
            (
                "Add a promise for",
                partial(promise_flows.add_promise, app, client_id, client_name, refresh),
                "Something you or the client will do, with a due date",
            ),
            (
                "Add a note about",
                partial(note_flows.write_note, app, client_id, client_name, refresh),
                "A private note, sealed before it is stored",
            ),
            (
                "Send a prompt to",
                partial(_send_prompt, app, client_id, client_name, refresh),
                "A between-session question, to copy or save, then mark as sent",
            ),
            (
                "Log a reply from",
                partial(log_reply_flow, app, client_id, client_name, refresh),
                "The client answered a prompt you sent",
            ),
            (
                "Edit client",
                partial(client_flows.edit_client, app, client_id, refresh),
                "Name, emails, phones, program and stage, cadence, preferences",
            ),
            (
                "Change status of",
                partial(client_flows.move_client, app, client_id, refresh),
                "Prospect, active, paused, completed or archived",
            ),
            (
                "Delete client",
                partial(client_flows.delete_client, app, client_id, refresh),
                "Remove the client and every record of theirs (asks for the name)",
            ),
        ]


def _screen(app, which: str) -> None:
    if which == "programs":
        from trustdesk.tui.screens.programs import ProgramsScreen

        app.push_screen(ProgramsScreen())
    else:
        from trustdesk.tui.screens.references import ReferencesScreen

        app.push_screen(ReferencesScreen())


def _search_notes(app) -> None:
    from trustdesk.tui.screens.note_search import search_notes_screen

    search_notes_screen(app)


def _awaiting(app) -> None:
    from trustdesk.tui.screens.awaiting import AwaitingRepliesScreen

    app.push_screen(AwaitingRepliesScreen())


def _agenda(app) -> None:
    from trustdesk.tui.screens.agenda import AgendaScreen

    app.push_screen(AgendaScreen())


def _schedule(app, client_id: int, client_name: str, done) -> None:
    from trustdesk.tui.flows.sessions import schedule_session

    schedule_session(app, client_id, client_name, done)


def _send_prompt(app, client_id: int, client_name: str, done) -> None:
    from trustdesk.tui.screens.prompts import send_prompt_flow

    send_prompt_flow(app, client_id, client_name, done)


def _open_client(app, client_id: int) -> None:
    from trustdesk.tui.screens.dashboard import DashboardScreen

    for screen in reversed(app.screen_stack):
        if isinstance(screen, DashboardScreen):
            screen.open_workspace(client_id)
            return
