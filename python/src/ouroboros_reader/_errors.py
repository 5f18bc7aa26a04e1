"""The only exceptions the package raises (besides OSError from reading a dump file)."""


class OuroborosError(Exception):
    """Base class of every error this package raises."""


class InvalidNameError(OuroborosError, ValueError):
    """The segment name is empty, too long, contains '/' after the first character, or NUL."""


class SegmentNotFoundError(OuroborosError, FileNotFoundError):
    """No shared-memory object of that name exists."""


class SegmentPermissionError(OuroborosError, PermissionError):
    """The segment exists but this user may not read it."""


class AttachError(OuroborosError):
    """The bytes are not a readable v1 log. ``status`` is "not_a_log", "unsupported_version" or
    "corrupt"; ``detail`` is the same message the C++ reader gives."""

    def __init__(self, status: str, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class NotALogError(AttachError):
    """No v1 magic, or too small for the header and the chunk table."""


class UnsupportedVersionError(AttachError):
    """The magic is there but the format version is not 1."""


class CorruptSegmentError(AttachError):
    """The header is inconsistent (chunk count 0)."""


class NotARegularFileError(AttachError):
    """The name (or dump path) is not a regular file: a FIFO, a symbolic link, a directory, a
    socket or a device. Refused before anything could block on it. ``str(e)`` is the message,
    e.g. "'/dev/shm/app' is not a regular file (it is a FIFO)"."""

    def __init__(self, path: str, kind: str) -> None:
        message = f"'{path}' is not a regular file (it is {kind})"
        super().__init__("not_a_log", message)
        self.args = (message,)
        self.path = path
        self.kind = kind

    def __str__(self) -> str:
        return str(self.args[0])


class ReaderClosedError(OuroborosError):
    """The reader was used after close()."""
