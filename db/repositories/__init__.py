"""Data access functions: keyword-only arguments, set-based SQL, no SQL outside ``db/``."""
