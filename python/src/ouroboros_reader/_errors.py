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


class ReaderClosedError(OuroborosError):
    """The reader was used after close()."""
