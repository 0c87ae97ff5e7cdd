"""`trustdesk help [TOPIC]`: the help of a command, from the same parser that reads it.

trustdesk help                the main help: every command
trustdesk help import         one command's help (the same as `trustdesk import --help`)
trustdesk help promise add    a command's action

An unknown topic is one line that lists the topics there are, and exit 2.
"""

from __future__ import annotations

import argparse

from trustdesk.cli.common import EXIT_OK, UsageError, _out

HELP = "the help of a command (trustdesk help promise add)"


def register(sub, common) -> dict:
    helping = sub.add_parser(
        "help",
        parents=[common],
        help=HELP,
        description="Show the help of trustdesk, or of one command or action.",
    )
    helping.add_argument(
        "topic", nargs="*", metavar="TOPIC", help="a command, and its action: import, promise add"
    )
    return {"help": cmd_help}


def cmd_help(args: argparse.Namespace) -> int:
    from trustdesk.cli import build_parser

    _out(help_text(build_parser(None), args.topic))
    return EXIT_OK


def help_text(parser: argparse.ArgumentParser, topic: list[str]) -> str:
    """The help of the command `topic` names, walking the parser's subcommands word by word."""
    target, path = parser, []
    for word in topic:
        topics = subcommands(target)
        if not topics:
            raise UsageError(
                f"'{' '.join(path)}' has no topics under it; see: trustdesk help {' '.join(path)}"
            )
        found = topics.get(word) or topics.get(word.casefold())
        if found is None:
            where = f" under {' '.join(path)}" if path else ""
            asked = " ".join([*path, word])
            raise UsageError(
                f"no help topic {asked!r}; the topics{where} are: {', '.join(sorted(topics))}"
            )
        target = found
        path.append(word.casefold() if word not in topics else word)
    return target.format_help()


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The commands (or actions) a parser takes, by name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}
