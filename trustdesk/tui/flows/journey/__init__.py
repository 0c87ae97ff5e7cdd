"""The journey: programs, stages, moving clients through them and what they achieved."""
