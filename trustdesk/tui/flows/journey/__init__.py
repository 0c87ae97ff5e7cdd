"""The coaching journey (clarity of process): editing programs and their stages."""
