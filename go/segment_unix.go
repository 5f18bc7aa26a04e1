//go:build !windows

package ouroboros

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"unsafe"
)

// Opening and mapping a segment on POSIX (/dev/shm; segment_windows.go is the Windows twin). The
// name is untrusted too: anyone may put a FIFO (whose open()
// would block forever), a symlink or a directory under it, or shrink the file while it is
// mapped (an access past the new end raises SIGBUS).

const shmDir = "/dev/shm"

func kindOf(mode uint32) string {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFIFO:
		return "a FIFO"
	case syscall.S_IFLNK:
		return "a symbolic link"
	case syscall.S_IFDIR:
		return "a directory"
	case syscall.S_IFSOCK:
		return "a socket"
	case syscall.S_IFCHR, syscall.S_IFBLK:
		return "a device"
	}
	return "not a regular file"
}

// openRegular opens path read-only without ever blocking (O_NONBLOCK: a FIFO opens at once),
// refusing a symlink as the last component when noFollow, and requires a regular file.
func openRegular(path string, noFollow bool) (int, syscall.Stat_t, error) {
	var st syscall.Stat_t
	flags := syscall.O_RDONLY | syscall.O_NONBLOCK | syscall.O_CLOEXEC
	if noFollow {
		flags |= syscall.O_NOFOLLOW
	}
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, flags, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		if noFollow && err == syscall.ELOOP {
			return -1, st, &NotRegularError{path, "a symbolic link"}
		}
		// Sockets fail with ENXIO, devices on a nodev mount with EACCES: name what is there.
		var lst syscall.Stat_t
		if err != syscall.ENOENT && syscall.Lstat(path, &lst) == nil && lst.Mode&syscall.S_IFMT != syscall.S_IFREG {
			return -1, st, &NotRegularError{path, kindOf(lst.Mode)}
		}
		return -1, st, &os.PathError{Op: "open", Path: path, Err: err}
	}
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return -1, st, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return -1, st, &NotRegularError{path, kindOf(st.Mode)}
	}
	return fd, st, nil
}

type mapping struct {
	b        []byte
	mmapped  bool
	dev, ino uint64
	uid      uint32
}

func (m *mapping) close() {
	if m.mmapped && m.b != nil {
		_ = syscall.Munmap(m.b)
	}
	m.b = nil
}

// faulted reports whether p, a value recovered from a panic, is a memory fault at an address
// inside this mapping: the file shrank below the mapped size. Anything else is not ours.
func (m *mapping) faulted(p interface{}) bool {
	f, ok := p.(interface{ Addr() uintptr })
	if !ok || m == nil || !m.mmapped || len(m.b) == 0 {
		return false
	}
	base := uintptr(unsafe.Pointer(&m.b[0]))
	return f.Addr() >= base && f.Addr()-base < uintptr(len(m.b))
}

func mapSegment(canonical string) (*mapping, error) {
	path := shmDir + canonical
	fd, st, err := openRegular(path, true)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) && pe.Err == syscall.ENOENT {
			return nil, fmt.Errorf("%w: segment '%s' does not exist (no writer has created it, or it was removed)", ErrSegmentNotFound, canonical)
		}
		if errors.As(err, &pe) && (pe.Err == syscall.EACCES || pe.Err == syscall.EPERM) {
			return nil, fmt.Errorf("%w: cannot open shared memory '%s': %v", ErrPermission, canonical, err)
		}
		return nil, err
	}
	defer syscall.Close(fd)
	if st.Size <= 0 || uint64(st.Size) > uint64(^uint(0)>>1) {
		return nil, &AttachError{statusNotALog, "buffer smaller than the 16-byte header or not 8-byte aligned"}
	}
	// MAP_SHARED + PROT_READ: the writer's stores stay visible; this process can never write.
	b, err := syscall.Mmap(fd, 0, int(st.Size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("cannot map shared memory '%s': %w", canonical, err)
	}
	return &mapping{b: b, mmapped: true, dev: uint64(st.Dev), ino: uint64(st.Ino), uid: st.Uid}, nil
}

// nameState is what the name refers to now: its identity and size (ok false if nothing is there).
func nameState(canonical string) (dev, ino uint64, size int64, ok bool) {
	var st syscall.Stat_t
	if err := syscall.Lstat(shmDir+canonical, &st); err != nil {
		return 0, 0, 0, false
	}
	return uint64(st.Dev), uint64(st.Ino), st.Size, true
}

// readRegularFile reads a dump: a regular file only (a FIFO would block), symlinks followed (the
// path is the caller's own choice).
func readRegularFile(path string) ([]byte, error) {
	fd, _, err := openRegular(path, false)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	return io.ReadAll(f)
}
