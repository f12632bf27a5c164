"""Typed errors that carry where a problem is (file, row, column) or which tenant."""

from __future__ import annotations


class MigrationFactoryError(Exception):
    """Base of every error the product raises on purpose."""


class ImportFormatError(MigrationFactoryError):
    """An inventory file cannot be read; says which file, row and column."""

    def __init__(self, message: str, *, file: str, row: int | None = None, column: str | None = None):
        where = file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")
        self.file, self.row, self.column = file, row, column


class TenantContextError(MigrationFactoryError):
    """A tenant-scoped operation was attempted without (or with a wrong) tenant."""


class DatabaseSetupError(MigrationFactoryError):
    """The database cannot be started, reached or bootstrapped."""


class RollbackIntegrityError(MigrationFactoryError):
    """An undo finished but the rows do not match their before-images."""


class ReviewRefusedError(MigrationFactoryError):
    """A human refused what a paused run asked them to approve (the phase is rolled back)."""


class MappingError(MigrationFactoryError):
    """A column mapping cannot be confirmed as asked (unknown field, unit or column)."""
