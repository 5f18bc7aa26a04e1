// Command ouroboros-go-bench measures the entries per second the Go reader sustains on a live
// segment: it starts ouroboros-test-writer unthrottled (so the reader is the bottleneck), reads
// flat out with Next() for the writer's whole run, then times a full pass over the stopped
// segment.
//
//	OUROBOROS_BIN_DIR=build/dev/bin go run ./cmd/ouroboros-go-bench [-records] [-seconds 3] [-passes 20]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	ouroboros "github.com/ouroboros-log/ouroboros/go"
)

func main() {
	records := flag.Bool("records", false, "write and decode log records")
	seconds := flag.Float64("seconds", 3, "writer run time")
	rate := flag.String("rate", "0", "writer entries/s (0 = unthrottled)")
	passes := flag.Int("passes", 20, "full passes over the stopped segment (the best one is reported)")
	flag.Parse()
	binDir := os.Getenv("OUROBOROS_BIN_DIR")
	if binDir == "" {
		binDir = filepath.Join("..", "build", "dev", "bin")
	}
	name := fmt.Sprintf("ouroboros-gobench-%d", os.Getpid())
	defer os.Remove("/dev/shm/" + name)
	args := []string{name, "--wait-stdin", "--keep", "--chunks", "64", "--chunk-size", "65536",
		"--seconds", strconv.FormatFloat(*seconds, 'f', -1, 64), "--rate", *rate,
		"--min-size", "12", "--max-size", "120"}
	if *records {
		args = append(args, "--records")
	}
	cmd := exec.Command(filepath.Join(binDir, "ouroboros-test-writer"), args...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := bufio.NewReader(stdout)
	if _, err := out.ReadString('\n'); err != nil {
		fmt.Fprintln(os.Stderr, "writer did not start:", err)
		os.Exit(1)
	}
	r, err := ouroboros.NewReader(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	done := make(chan struct{})
	go func() { _, _ = io.ReadAll(out); close(done) }()
	_, _ = io.WriteString(stdin, "go\n")
	var delivered, lost, bytes uint64
	started := time.Now()
loop:
	for {
		select {
		case <-done:
			break loop
		default:
		}
		for i := 0; i < 1024; i++ {
			ev, _ := r.Next()
			switch ev.Status {
			case ouroboros.OK:
				delivered++
				bytes += uint64(len(ev.Entry.Payload))
			case ouroboros.Lapped:
				lost += ev.Lost
			}
		}
	}
	elapsed := time.Since(started).Seconds()
	_ = cmd.Wait()
	r.Close()
	fmt.Printf("live: %.0f entries/s delivered (%.1f MB/s payload), lost %d\n",
		float64(delivered)/elapsed, float64(bytes)/elapsed/1e6, lost)

	// The stopped segment: the best of several full passes, so a busy machine's noise shows less.
	best, n := 0.0, 0
	for pass := 0; pass < *passes; pass++ {
		full, err := ouroboros.Open(name, ouroboros.Oldest)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		started = time.Now()
		n = 0
		for {
			e, _ := full.Available()
			if e == nil {
				break
			}
			n++
		}
		if rate := float64(n) / time.Since(started).Seconds(); rate > best {
			best = rate
		}
		full.Close()
	}
	fmt.Printf("stopped segment, oldest to newest: %.0f entries/s (%d entries, best of %d passes)\n", best, n, *passes)
}
