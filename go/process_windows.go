//go:build windows

package ouroboros

import "syscall"

// Process facts on Windows: a process exists while OpenProcess succeeds and it has not exited;
// its start time is its creation time (GetProcessTimes), in unix ns.

const (
	processQueryLimitedInformation = 0x1000
	stillActive                    = 259
)

func processExists(pid uint64) bool {
	if pid == 0 || pid > 0xFFFFFFFF {
		return false
	}
	h, err := syscall.OpenProcess(processQueryLimitedInformation|syscall.SYNCHRONIZE, false, uint32(pid))
	if err != nil {
		return err == syscall.ERROR_ACCESS_DENIED // someone else's: alive as far as we can tell
	}
	defer syscall.CloseHandle(h)
	var code uint32
	if err := syscall.GetExitCodeProcess(h, &code); err != nil || code != stillActive {
		return false
	}
	event, _ := syscall.WaitForSingleObject(h, 0)
	return event != syscall.WAIT_OBJECT_0
}

// processState returns state 'R' for a process that can be queried, and its creation time.
func processState(pid uint64) (state byte, startNs uint64, ok bool) {
	if pid == 0 || pid > 0xFFFFFFFF {
		return 0, 0, false
	}
	h, err := syscall.OpenProcess(processQueryLimitedInformation, false, uint32(pid))
	if err != nil {
		return 0, 0, false
	}
	defer syscall.CloseHandle(h)
	var created, exited, kernel, user syscall.Filetime
	if err := syscall.GetProcessTimes(h, &created, &exited, &kernel, &user); err != nil {
		return 'R', 0, true
	}
	ns := created.Nanoseconds()
	if ns <= 0 {
		return 'R', 0, true
	}
	return 'R', uint64(ns), true
}
