//go:build linux

package main

import (
	"syscall"
	"unsafe"
)

// isTerminal reports whether fd is a terminal (TCGETS succeeds, as isatty(3) asks).
func isTerminal(fd uintptr) bool {
	var termios syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCGETS, uintptr(unsafe.Pointer(&termios)))
	return errno == 0
}
