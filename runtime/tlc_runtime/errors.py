"""Errors raised by emitted code while it runs; the compiler turns them into located TlcErrors."""


class RuntimeFailure(Exception):
    """A failure while running emitted code, located at a source line and column."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class DataFileError(Exception):
    """A data file that cannot be read, located at a file (and line and column when known)."""

    def __init__(self, message: str, filename: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.filename = filename
        self.line = line
        self.column = column
