//go:build !windows

package ouroboros

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Differential check against the C++ reader (the reference): the same hostile buffers, read by
// `ouroboros-cli tail --from oldest --json` from /dev/shm and by this package, must give the same
// stream of entries, gaps and corrupt reports. Slow and needs the CLI, so it runs only with
// OUROBOROS_DIFFERENTIAL=N (N random buffers); OUROBOROS_DIFFERENTIAL_CLI names another CLI.

type diffEvent struct {
	Kind   string // ok, lapped, corrupt
	Seq    uint64
	Lost   uint64
	Detail string
	Text   string
}

func cliStream(t *testing.T, cli string, data []byte) []diffEvent {
	t.Helper()
	name := fmt.Sprintf("ouroboros-godiff-%d", os.Getpid())
	path := "/dev/shm/" + name
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(path)
	cmd := exec.Command(cli, "tail", "--from", "oldest", "--json", name)
	var out bytes.Buffer
	cmd.Stdout = &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return []diffEvent{{Kind: "cli-timeout"}}
	}
	var got []diffEvent
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(sc.Text()))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		num := func(k string) uint64 {
			n, _ := m[k].(json.Number)
			var v uint64
			fmt.Sscan(string(n), &v)
			return v
		}
		switch m["type"] {
		case "entry":
			got = append(got, diffEvent{Kind: "ok", Seq: num("seq"), Text: m["message"].(string)})
		case "gap":
			got = append(got, diffEvent{Kind: "lapped", Lost: num("lost")})
		case "event":
			if m["event"] == "corrupt" {
				msg := m["message"].(string)
				got = append(got, diffEvent{Kind: "corrupt", Detail: msg[strings.Index(msg, ": ")+2:]})
			}
		}
	}
	return got
}

func goStream(data []byte, limit int) []diffEvent {
	r, err := FromBytes(data, Oldest)
	if err != nil {
		return nil
	}
	var got []diffEvent
	for i := 0; i < limit; i++ {
		ev, _ := r.Next()
		switch ev.Status {
		case OK:
			text := perByteValid(ev.Entry.Payload)
			if ev.Entry.Record != nil {
				text = ev.Entry.Record.Message
			}
			got = append(got, diffEvent{Kind: "ok", Seq: ev.Entry.Seq, Text: text})
		case Lapped:
			got = append(got, diffEvent{Kind: "lapped", Lost: ev.Lost})
		case Corrupt:
			got = append(got, diffEvent{Kind: "corrupt", Detail: ev.Detail})
		default:
			return got
		}
	}
	return got
}

// mutate flips a few bits, preferring the header, the table and entry headers.
func mutate(rng *rand.Rand, data []byte) []byte {
	out := append([]byte(nil), data...)
	if len(out) < 16 {
		return out
	}
	count := int(binary.LittleEndian.Uint32(out[12:]))
	table := headerSize + rowSize*count
	for k := 1 + rng.Intn(4); k > 0; k-- {
		var at int
		switch rng.Intn(3) {
		case 0:
			if table > len(out) {
				table = len(out)
			}
			at = 16 + rng.Intn(table-15) - 1
			if at < 16 {
				at = 16
			}
		default:
			at = rng.Intn(len(out))
		}
		out[at] ^= 1 << uint(rng.Intn(8))
	}
	return out
}

func TestDifferentialAgainstCLI(t *testing.T) {
	runs := os.Getenv("OUROBOROS_DIFFERENTIAL")
	if runs == "" {
		t.Skip("set OUROBOROS_DIFFERENTIAL=N to compare N mutated buffers with ouroboros-cli")
	}
	cli := filepath.Join(binDir(), "ouroboros-cli")
	if c := os.Getenv("OUROBOROS_DIFFERENTIAL_CLI"); c != "" {
		cli = c
	}
	if _, err := os.Stat(cli); err != nil {
		t.Skip(err)
	}
	var n int
	fmt.Sscan(runs, &n)
	var seeds [][]byte
	for _, k := range []int{1, 2, 3, 7, 64, 300} {
		seeds = append(seeds, craftCorruptRows(k), craftEmptyChain(k), craftEqualPairs(k), craftPlausibleLoops(k))
	}
	names, _ := os.ReadDir(vectorsDir)
	for _, e := range names {
		if filepath.Ext(e.Name()) == ".bin" {
			if data, err := os.ReadFile(filepath.Join(vectorsDir, e.Name())); err == nil && len(data) >= 16 {
				seeds = append(seeds, data)
			}
		}
	}
	check := func(label string, data []byte) {
		want := cliStream(t, cli, data)
		got := goStream(data, 1<<20)
		if !reflect.DeepEqual(got, want) {
			_ = os.WriteFile(filepath.Join(t.TempDir(), "differs.bin"), data, 0o644)
			t.Fatalf("%s: Go and C++ differ (%d vs %d events)\n go  %v\n cli %v", label, len(got), len(want), head(got), head(want))
		}
	}
	for i, s := range seeds {
		check(fmt.Sprintf("seed %d", i), s)
	}
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			check(fmt.Sprintf("random table %d", i), craftRandomTable(rng, 1+rng.Intn(200)))
			continue
		}
		s := seeds[rng.Intn(len(seeds))]
		check(fmt.Sprintf("mutation %d", i), mutate(rng, s))
	}
}

// perByteValid replaces every byte that starts no valid UTF-8 sequence with U+FFFD, as the CLI's
// JSON output does.
func perByteValid(p []byte) string {
	var b strings.Builder
	for len(p) > 0 {
		r, size := utf8.DecodeRune(p)
		if r == utf8.RuneError && size <= 1 {
			b.WriteRune(utf8.RuneError)
			p = p[1:]
			continue
		}
		b.Write(p[:size])
		p = p[size:]
	}
	return b.String()
}

// craftRandomTable: rows with tokens from a small range (many equal, many out of order) at
// random offsets, over slots holding empty headers, wrap markers, reserved lengths and entries.
func craftRandomTable(rng *rand.Rand, n int) []byte {
	slots := 4 + rng.Intn(4*n)
	c := newCraft(n, 16*slots)
	for k := 0; k < slots; k++ {
		off := c.first + 16*k
		switch rng.Intn(6) {
		case 0:
			c.header(off, 0)
		case 1:
			c.header(off, 1|entryCommitted)
		case 2:
			c.header(off, 2|entryCommitted)
		default:
			c.entry(off, []byte(fmt.Sprintf("e%d", k%1000)))
		}
	}
	tokens := 1 + rng.Intn(2*n)
	for i := 0; i < n; i++ {
		if rng.Intn(8) == 0 {
			continue // uncommitted row
		}
		c.row(i, c.first+16*rng.Intn(slots)+4*rng.Intn(2), uint64(rng.Intn(tokens)))
	}
	return c.b
}

func head(events []diffEvent) []diffEvent {
	if len(events) > 12 {
		return events[:12]
	}
	return events
}
