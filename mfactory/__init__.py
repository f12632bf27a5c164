"""Migration Factory: command line, settings and reference data."""

__version__ = "0.1.0"
