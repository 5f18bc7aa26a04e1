//go:build !windows

package ouroboros

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

func processExists(pid uint64) bool {
	if pid == 0 || pid > 0x7FFFFFFF {
		return false
	}
	err := syscall.Kill(int(pid), 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// processState reads a process's state letter (field 3 of /proc/PID/stat) and start time in
// unix ns (0 if unknown); ok false if /proc has no such process.
func processState(pid uint64) (state byte, startNs uint64, ok bool) {
	stat, err := os.ReadFile("/proc/" + strconv.FormatUint(pid, 10) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// The command name (field 2) may contain anything, ')' included: parse after the last one.
	close := bytes.LastIndexByte(stat, ')')
	if close < 0 || close+2 > len(stat) {
		return 0, 0, true
	}
	fields := strings.Fields(string(stat[close+2:]))
	if len(fields) == 0 || len(fields[0]) != 1 {
		return 0, 0, true
	}
	state = fields[0][0]
	if len(fields) < 20 {
		return state, 0, true
	}
	startTicks, err := strconv.ParseUint(fields[22-3], 10, 64)
	if err != nil {
		return state, 0, true
	}
	procStat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return state, 0, true
	}
	var boot uint64
	for _, line := range strings.Split(string(procStat), "\n") {
		if strings.HasPrefix(line, "btime ") {
			boot, _ = strconv.ParseUint(strings.TrimSpace(line[6:]), 10, 64)
		}
	}
	if boot == 0 {
		return state, 0, true
	}
	return state, boot*1_000_000_000 + startTicks*(1_000_000_000/clockTicksPerSec), true
}
