"""What a key does: one module per habit; each flow asks with a form and writes off the UI thread.

`base` holds what every flow shares; `promises`, `contact`, `sessions`, `notes`,
`journey` and `prompts` hold the flows of one habit each. A screen picks the
highlighted row and calls one flow, which calls the `trust` rule it changes.
"""
