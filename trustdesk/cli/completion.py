"""`trustdesk completion bash|zsh|fish`: tab completion, generated from the command line itself.

Where each shell looks for the script is in INSTALL (the command's --help).

The scripts are made by shtab from the same parser that reads the command line, so every
command, option and fixed choice a coach can type completes, and a new command completes
as soon as it is added. Options and arguments that name a file complete file names.

Client names do not complete: the script is static, and completing them would mean running
trustdesk on every Tab, opening the practice (on a file that an upgrade has not reached yet,
opening it upgrades the schema, a write and a backup copy; on PostgreSQL, a connection
per Tab). A client is named by any unambiguous part of their name, so a few letters do.
"""

from __future__ import annotations

import argparse

from trustdesk.cli.common import EXIT_OK, _out_data

HELP = "tab completion for bash, zsh or fish (print the script to install)"

SHELLS = ("bash", "zsh", "fish")

INSTALL = """\
Print the tab-completion script for your shell. Install it once, then open a
new shell (the folders must exist):

  bash  trustdesk completion bash \\
          > ~/.local/share/bash-completion/completions/trustdesk
  zsh   trustdesk completion zsh > ~/.zfunc/_trustdesk
        (with fpath=(~/.zfunc $fpath) before compinit in ~/.zshrc)
  fish  trustdesk completion fish > ~/.config/fish/completions/trustdesk.fish

Run it again after an upgrade of trustdesk, for its new commands and options."""

# What an argument is named tells what it holds; the names as the parsers write them.
_FILE_METAVARS = {"PATH", "FILE", "URL_OR_PATH", "clients.csv"}
_FILE_DESTS = {"output", "path", "file", "csv_path"}
_FOLDER_METAVARS = {"DIR"}


def register(sub, common) -> dict:
    completion = sub.add_parser(
        "completion",
        parents=[common],
        help=HELP,
        description=INSTALL,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    completion.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    return {"completion": cmd_completion}


def cmd_completion(args: argparse.Namespace) -> int:
    _out_data(completion_script(args.shell))
    return EXIT_OK


def completion_script(shell: str) -> str:
    """The script for `shell`, from the full parser (every command built, not just one)."""
    import shtab

    from trustdesk.cli import build_parser

    parser = build_parser(None)
    _mark_paths(parser, set())
    return shtab.complete(parser, shell=shell)


def _mark_paths(parser: argparse.ArgumentParser, seen: set[int]) -> None:
    """Tell shtab which arguments hold a file or a folder, walking every command."""
    import shtab

    if id(parser) in seen:
        return
    seen.add(id(parser))
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _mark_paths(child, seen)
            continue
        if getattr(action, "complete", None) is not None or action.nargs == 0:
            continue
        if action.choices is not None:
            continue
        metavar = action.metavar if isinstance(action.metavar, str) else None
        if metavar in _FOLDER_METAVARS:
            action.complete = shtab.DIRECTORY  # type: ignore[attr-defined]
        elif metavar in _FILE_METAVARS or action.dest in _FILE_DESTS:
            action.complete = shtab.FILE  # type: ignore[attr-defined]
