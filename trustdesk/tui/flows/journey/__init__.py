"""The coaching journey (clarity of process): programs and their stages (`programs`), and
moving a client through them and recording what they achieved (`progress`)."""
