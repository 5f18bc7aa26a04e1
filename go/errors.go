package ouroboros

import (
	"errors"
	"fmt"
)

// Errors returned by this package. Attach failures wrap one of ErrNotALog, ErrUnsupportedVersion
// or ErrCorrupt in an *AttachError; test with errors.Is.
var (
	ErrInvalidName        = errors.New("invalid segment name")
	ErrSegmentNotFound    = errors.New("segment does not exist")
	ErrPermission         = errors.New("permission denied")
	ErrNotALog            = errors.New("not a log buffer")
	ErrUnsupportedVersion = errors.New("unsupported format version")
	ErrCorrupt            = errors.New("corrupt buffer")
	ErrClosed             = errors.New("reader is closed")
	ErrNotRegularFile     = errors.New("not a regular file") // a FIFO, symlink, directory... under the name (*NotRegularError)
	ErrSegmentTruncated   = errors.New("segment truncated")  // the file shrank below the mapped size (*TruncatedError)
)

// AttachError says why bytes are not a readable v1 log. Status is "not_a_log",
// "unsupported_version" or "corrupt"; Detail is the same message the C++ reader gives.
type AttachError struct {
	Status string
	Detail string
}

func (e *AttachError) Error() string { return fmt.Sprintf("%s: %s", e.Status, e.Detail) }

func (e *AttachError) Unwrap() error {
	switch e.Status {
	case statusUnsupportedVersion:
		return ErrUnsupportedVersion
	case statusCorrupt:
		return ErrCorrupt
	}
	return ErrNotALog
}

// TruncatedError: the segment's file shrank below the size that was mapped, so the rest of the
// mapping is gone (reading it would raise SIGBUS). Entries read before stay valid.
type TruncatedError struct {
	Segment string
	Mapped  int   // bytes mapped
	Size    int64 // the file's size when the fault was seen (-1 if the name is gone)
}

func (e *TruncatedError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("segment '%s' was truncated below the %d bytes mapped (and removed); stopped reading it", e.Segment, e.Mapped)
	}
	return fmt.Sprintf("segment '%s' was truncated: its file shrank to %d bytes, below the %d bytes mapped; stopped reading it", e.Segment, e.Size, e.Mapped)
}

func (e *TruncatedError) Unwrap() error { return ErrSegmentTruncated }
