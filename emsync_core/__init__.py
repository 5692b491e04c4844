"""EMSYNC: scores a film edit with music that follows its moods and changes chord on every cut."""

__version__ = "0.1.0"
