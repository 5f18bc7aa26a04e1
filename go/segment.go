package ouroboros

import "fmt"

// What segment_unix.go and segment_windows.go share.

// NotRegularError: the name is not a regular file. Error() is the message all the project's
// tools print: '/dev/shm/NAME' is not a regular file (it is a FIFO).
type NotRegularError struct {
	Path string
	Kind string // "a FIFO", "a symbolic link", "a directory", "a socket", "a device", ...
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("'%s' is not a regular file (it is %s)", e.Path, e.Kind)
}

func (e *NotRegularError) Unwrap() error { return ErrNotRegularFile }
