//go:build !linux

package main

// isTerminal: without a portable check in the standard library, -color auto means no colour
// outside Linux.
func isTerminal(fd uintptr) bool { return false }
