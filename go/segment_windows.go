//go:build windows

package ouroboros

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// Opening and mapping a segment on Windows (docs/format.md, "Windows"): segment "/NAME" is the
// paging-file-backed section Local\NAME (Global\NAME when OUROBOROS_WINDOWS_NAMESPACE=Global),
// opened with FILE_MAP_READ only. Views are whole pages and the project's writers size the ring
// to fill them, so the mapped size is the ring size. Sections cannot shrink, so nothing faults.
// There is no inode: a section's identity is the incarnation id in its extension block.

var (
	kernel32             = syscall.NewLazyDLL("kernel32.dll")
	procOpenFileMappingW = kernel32.NewProc("OpenFileMappingW")
	procVirtualQuery     = kernel32.NewProc("VirtualQuery")
)

const fileMapRead = 0x0004 // FILE_MAP_READ

type mapping struct {
	b        []byte
	mmapped  bool
	dev, ino uint64 // dev 0, ino the incarnation id when the section was mapped
	uid      uint32
	handle   syscall.Handle // held while mapped: a section's name goes with its last handle
}

type memoryBasicInformation struct {
	BaseAddress       uintptr
	AllocationBase    uintptr
	AllocationProtect uint32
	PartitionID       uint16
	_                 uint16
	RegionSize        uintptr
	State             uint32
	Protect           uint32
	Type              uint32
	_                 uint32
}

func (m *mapping) close() {
	if m.mmapped && m.b != nil {
		_ = syscall.UnmapViewOfFile(uintptr(unsafe.Pointer(&m.b[0])))
		_ = syscall.CloseHandle(m.handle)
	}
	m.b = nil
}

// faulted: a section's size is fixed at creation, so no access to a view ever faults.
func (m *mapping) faulted(p interface{}) bool { return false }

func objectName(canonical string) (*uint16, error) {
	namespace := `Local\`
	if v := os.Getenv("OUROBOROS_WINDOWS_NAMESPACE"); v == "Global" || v == "global" {
		namespace = `Global\`
	}
	return syscall.UTF16PtrFromString(namespace + canonical[1:])
}

func openSection(canonical string) (syscall.Handle, error) {
	name, err := objectName(canonical)
	if err != nil {
		return 0, err
	}
	if err := procOpenFileMappingW.Find(); err != nil {
		return 0, err
	}
	h, _, callErr := procOpenFileMappingW.Call(fileMapRead, 0, uintptr(unsafe.Pointer(name)))
	if h == 0 {
		return 0, callErr
	}
	return syscall.Handle(h), nil
}

func viewSize(addr uintptr) uintptr {
	var info memoryBasicInformation
	r, _, _ := procVirtualQuery.Call(addr, uintptr(unsafe.Pointer(&info)), unsafe.Sizeof(info))
	if r == 0 {
		return 0
	}
	return info.RegionSize
}

func mapSegment(canonical string) (*mapping, error) {
	if len(canonical) > 1 && containsBackslash(canonical) {
		return nil, fmt.Errorf("%w: segment name '%s' contains '\\', which Windows reserves for kernel object namespaces", ErrInvalidName, canonical)
	}
	h, err := openSection(canonical)
	if err != nil {
		switch {
		case errors.Is(err, syscall.ERROR_FILE_NOT_FOUND) || errors.Is(err, syscall.ERROR_PATH_NOT_FOUND):
			return nil, fmt.Errorf("%w: segment '%s' does not exist (no writer has created it, or it was removed)", ErrSegmentNotFound, canonical)
		case errors.Is(err, syscall.ERROR_ACCESS_DENIED):
			return nil, fmt.Errorf("%w: cannot open shared memory '%s': %v", ErrPermission, canonical, err)
		}
		return nil, fmt.Errorf("cannot open shared memory '%s': %w", canonical, err)
	}
	addr, err := syscall.MapViewOfFile(h, fileMapRead, 0, 0, 0)
	if err != nil {
		_ = syscall.CloseHandle(h)
		return nil, fmt.Errorf("cannot map shared memory '%s': %w", canonical, err)
	}
	size := viewSize(addr)
	if size < 16 {
		_ = syscall.UnmapViewOfFile(addr)
		_ = syscall.CloseHandle(h)
		return nil, &AttachError{statusNotALog, "buffer smaller than the 16-byte header or not 8-byte aligned"}
	}
	// The view's address as a pointer without converting a uintptr expression (go vet).
	base := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	b := unsafe.Slice((*byte)(base), int(size))
	m := &mapping{b: b, mmapped: true, handle: h}
	if info, ok := readExtension(b); ok {
		m.ino = info.Incarnation
	}
	return m, nil
}

func containsBackslash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			return true
		}
	}
	return false
}

// nameState is what the name refers to now: (0, incarnation id, size); ok false if nothing is
// there. A writer that took a stale name over in place rewrote the incarnation id.
func nameState(canonical string) (dev, ino uint64, size int64, ok bool) {
	m, err := mapSegment(canonical)
	if err != nil {
		return 0, 0, 0, false
	}
	defer m.close()
	return 0, m.ino, int64(len(m.b)), true
}

// readRegularFile reads a dump file.
func readRegularFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &NotRegularError{path, "not a regular file"}
	}
	return os.ReadFile(path)
}
