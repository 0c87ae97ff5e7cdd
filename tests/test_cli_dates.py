"""The command line reads dates as people type them, and refuses a guess in one line."""

import datetime as dt
import json


def test_today_looks_ahead_as_typed_and_refuses_an_ambiguous_day(initialised):
    ahead = initialised("--today", "+7", "report", "--json")
    assert ahead.returncode == 0, ahead.stderr
    assert json.loads(ahead.stdout)["today"] == (dt.date.today() + dt.timedelta(days=7)).isoformat()
    refused = initialised("--today", "03/04", "report")
    assert refused.returncode == 2 and refused.stdout == b""
    said = refused.stderr.decode().strip()
    assert "\n" not in said and "could be read two ways; type it as 3 apr or 4 mar" in said
