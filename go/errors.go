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
