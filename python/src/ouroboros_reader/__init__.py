"""Pure-Python reader for Ouroboros shared-memory ring logs (format v1).

    from ouroboros_reader import Reader

    with Reader.open("myapp") as reader:          # /dev/shm/myapp, mapped read-only
        for entry in reader.follow():             # waits for new entries
            print(entry.seq, entry.level, entry.tag, entry.message)

Standard library only; Linux; Python 3.9+. See README.md for the API and the safety argument.
"""

from ._errors import (
    AttachError,
    CorruptSegmentError,
    InvalidNameError,
    NotALogError,
    NotARegularFileError,
    OuroborosError,
    ReaderClosedError,
    SegmentNotFoundError,
    SegmentPermissionError,
    UnsupportedVersionError,
)
from ._extension import ExtensionInfo
from .reader import (
    Entry,
    Kind,
    Liveness,
    ReadBatch,
    ReadResult,
    Reader,
    Start,
    Status,
    canonical_name,
    open_segment,
)
from .records import FieldType, Level, Record, decode_record

__version__ = "0.1.0"

__all__ = [
    "AttachError",
    "CorruptSegmentError",
    "Entry",
    "FieldType",
    "ExtensionInfo",
    "InvalidNameError",
    "Kind",
    "Level",
    "Liveness",
    "NotALogError",
    "NotARegularFileError",
    "OuroborosError",
    "ReadBatch",
    "ReadResult",
    "Reader",
    "ReaderClosedError",
    "Record",
    "SegmentNotFoundError",
    "SegmentPermissionError",
    "Start",
    "Status",
    "UnsupportedVersionError",
    "canonical_name",
    "decode_record",
    "open_segment",
]
