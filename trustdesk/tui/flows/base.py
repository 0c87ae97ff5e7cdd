"""What every flow shares: ask with a form, write off the UI thread, say how it went.

A flow opens the right form, and when it is saved runs the `trust` call in a thread
worker while the form stays open; the outcome is a notification, and `done` refreshes
whatever the calling screen shows. A refusal (ActionError) or a database error keeps
the form open with what was typed, the reason shown on the field it is about (an
ActionError's `field`, when it has one) or at the top; nothing ever ends in a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from trustdesk.store import StoreBusy, StoreError
from trustdesk.trust import common
from trustdesk.trust.notes import NoteError
from trustdesk.tui.failures import failure_line
from trustdesk.tui.forms import FormScreen
from trustdesk.vault import VaultError

if TYPE_CHECKING:
    from trustdesk.tui.app import TrustdeskApp

Done = Callable[[], None]


class _Saved(Protocol):
    version: int


T = TypeVar("T", bound=_Saved)


def perform(
    app: TrustdeskApp,
    work: Callable[[], Any],
    success: str,
    done: Done | None,
    *,
    changed: Callable[[common.ChangedElsewhere], str] | None = None,
) -> None:
    """Run a write in a thread worker with its own connection; report on the UI thread.

    `changed`, if given, is run (on the worker thread) when the write is refused because
    the record changed elsewhere, instead of asking the coach to start again; it returns
    what to tell them.
    """

    def run() -> None:
        try:
            app.fetch(work)
        except common.ChangedElsewhere as exc:
            message = str(exc) if changed is None else changed(exc)
            app.call_from_thread(app.notify, message, severity="warning", markup=False)
        except (common.ActionError, NoteError, VaultError) as exc:
            app.call_from_thread(app.notify, str(exc), severity="warning", markup=False)
        except StoreBusy as exc:
            message = f"Not saved: the database is busy or locked ({exc}). Try again."
            app.call_from_thread(app.notify, message, severity="error", markup=False)
        except StoreError as exc:
            message = f"Not saved: {exc}"
            app.call_from_thread(app.notify, message, severity="error", markup=False)
        except Exception as exc:  # noqa: BLE001 - a note's words must not reach a traceback
            message = f"Not saved: {failure_line(exc, doing='save it')}"
            app.call_from_thread(app.notify, message, severity="error", markup=False)
        else:
            app.call_from_thread(app.notify, success, markup=False)
        if done is not None:
            app.call_from_thread(done)

    app.run_worker(run, thread=True, group="write", exit_on_error=False)


def ask_then_perform(
    app: TrustdeskApp,
    form: FormScreen,
    work: Callable[[dict], Any],
    success: str | Callable[[dict], str],
    done: Done | None,
    *,
    changed: Callable[[dict], Callable[[common.ChangedElsewhere], str]] | None = None,
) -> None:
    """Open a form; on Save, run the write it asks for with its values, the form still open.

    Written: the form closes, the coach is told, `done` runs. Refused by the rules, or
    not written for the database's sake: the form stays open with the reason and every
    value typed. `changed`, given the values, answers a record changed elsewhere (the
    form closes: that answer reopens it with the saved copy and the coach's changes).
    """

    def write(values: dict) -> None:
        message = success(values) if callable(success) else success
        elsewhere = changed(values) if changed is not None else None

        def run() -> None:
            try:
                app.fetch(work, values)
            except common.ChangedElsewhere as exc:
                # This form closes first: the answer may open it again, refilled.
                app.call_from_thread(form.closed_unsaved)
                answer = str(exc) if elsewhere is None else elsewhere(exc)
                app.call_from_thread(app.notify, answer, severity="warning", markup=False)
                if done is not None:
                    app.call_from_thread(done)
            except (common.ActionError, NoteError, VaultError) as exc:
                app.call_from_thread(form.refused, str(exc), getattr(exc, "field", None))
                if done is not None:  # what is behind the form shows what is saved now
                    app.call_from_thread(done)
            except StoreBusy as exc:
                line = f"Not saved: the database is busy or locked ({exc}). Try again."
                app.call_from_thread(form.refused, line)
            except StoreError as exc:
                app.call_from_thread(form.refused, f"Not saved: {exc}")
            except Exception as exc:  # noqa: BLE001 - a note's words must not reach a traceback
                line = f"Not saved: {failure_line(exc, doing='save it')}"
                app.call_from_thread(form.refused, line)
            else:
                app.call_from_thread(form.saved)
                app.call_from_thread(app.notify, message, markup=False)
                if done is not None:
                    app.call_from_thread(done)

        app.run_worker(run, thread=True, group="write", exit_on_error=False)

    form.keep_open_while_saving(write)
    app.push_screen(form)


@dataclass(frozen=True)
class SavedRecord(Generic[T]):
    """How a form's record is read again as saved now, and laid under the coach's changes."""

    read: Callable[[], T | None]  # on a worker thread; None once the change cannot apply
    describe: Callable[[T], str]  # a line for the coach about what is saved
    fields: Callable[[T], dict[str, Any]] = lambda now: {}  # the form's values for it


def _unchanged(typed: Any, base: Any) -> bool:
    return typed == base or (typed is None and base in ("", None))


def ask_then_change(
    app: TrustdeskApp,
    form: FormScreen,
    change: Callable[[dict, int | None], Any],
    success: str | Callable[[dict], str],
    done: Done | None,
    *,
    version: int | None,
    record: SavedRecord[T],
    base: dict[str, Any] | None = None,
) -> None:
    """`ask_then_perform` for a change to a record the form was filled from (`version`).

    If another window or terminal saved the record meanwhile, nothing is written over
    and nothing the coach typed is lost. The form comes back filled with what is saved
    now, with every field the coach changed (from `base`, what the form first showed)
    kept as they typed it; it says what was saved, and saving again applies their
    changes to that copy.
    """
    shown = base if base is not None else {f.key: f.default for f in form.fields}

    def changed(values: dict) -> Callable[[common.ChangedElsewhere], str]:
        def answer(refused: common.ChangedElsewhere) -> str:
            try:
                now = app.fetch(record.read)
            except StoreError:
                now = None
            if now is None:
                return (
                    f"Not saved: {refused.what} was changed elsewhere and can no longer take "
                    "this change. It has been reloaded."
                )
            app.call_from_thread(again, values, now)
            return f"Not saved yet: {refused.what} was changed elsewhere after you opened it."

        return answer

    def again(values: dict, now: T) -> None:
        fresh = record.fields(now)
        merged = {
            key: fresh[key] if key in fresh and _unchanged(typed, shown.get(key)) else typed
            for key, typed in values.items()
        }
        intro = (
            f"Changed elsewhere while you were editing; saved now: {record.describe(now)}. "
            "Below is that, with your changes kept: save to apply them, or cancel."
        )
        ask_then_change(
            app,
            form.refilled(merged, intro),
            change,
            success,
            done,
            version=now.version,
            record=record,
            base={**values, **fresh},
        )

    ask_then_perform(
        app, form, lambda values: change(values, version), success, done, changed=changed
    )
