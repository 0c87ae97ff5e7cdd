"""What a key does: one module per habit, each calling the rules in `trust`."""
