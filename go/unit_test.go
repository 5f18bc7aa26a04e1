package ouroboros

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"
)

func TestCanonicalName(t *testing.T) {
	if c, err := CanonicalName("app"); err != nil || c != "/app" {
		t.Fatal(c, err)
	}
	for _, bad := range []string{"", "/", "a/b", "/a/b", string(make([]byte, 300)), "/.", "/..", "a\x00b"} {
		if _, err := CanonicalName(bad); !errors.Is(err, ErrInvalidName) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
}

func TestAttachErrors(t *testing.T) {
	if _, err := NewReader("ouroboros-go-does-not-exist-12345"); !errors.Is(err, ErrSegmentNotFound) {
		t.Fatal(err)
	}
	cases := map[string]error{
		"corrupt_bad_magic":   ErrNotALog,
		"corrupt_bad_version": ErrUnsupportedVersion,
		"corrupt_zero_chunks": ErrCorrupt,
		"corrupt_too_short":   ErrNotALog,
	}
	for name, want := range cases {
		if _, err := FromFile(filepath.Join(vectorsDir, name+".bin"), Oldest); !errors.Is(err, want) {
			t.Fatalf("%s: %v, want %v", name, err, want)
		}
	}
	if _, err := FromBytes(nil, Oldest); !errors.Is(err, ErrNotALog) {
		t.Fatal(err)
	}
}

func TestAvailableFoldsGaps(t *testing.T) {
	r, err := FromFile(filepath.Join(vectorsDir, "gap_token_jump.bin"), Oldest)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var seqs []uint64
	var lost uint64
	for {
		e, err := r.Available()
		if err != nil {
			t.Fatal(err)
		}
		if e == nil {
			break
		}
		if e.LostBefore > 0 && e.Seq != 5 {
			t.Fatalf("gap before %d", e.Seq)
		}
		lost += e.LostBefore
		seqs = append(seqs, e.Seq)
	}
	if lost != 2 || len(seqs) != 12 || seqs[len(seqs)-1] != 14 {
		t.Fatalf("lost %d, seqs %v", lost, seqs)
	}
	// A dump's writer liveness is whatever its block says (here: a live-looking pid 4242 or
	// unknown), so Wait either ends with io.EOF or honours the context; it must not hang.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := r.Wait(ctx, time.Millisecond); !errors.Is(err, context.DeadlineExceeded) && err != io.EOF {
		t.Fatal(err)
	}
	r.Close()
	if _, err := r.Next(); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

func TestClockConversion(t *testing.T) {
	c := Clock{TickBase: 1_000_000, WallBase: 1_700_000_000_123_456_789, Mult: 3 << 31}
	if got := c.UnixNs(1_002_000); got != 1_700_000_000_123_459_789 {
		t.Fatal(got)
	}
	if got := c.UnixNs(999_000); got != 1_700_000_000_123_455_289 {
		t.Fatal(got)
	}
	// floor for negative products that are not whole nanoseconds: -1 tick at 1.5 ns = -1.5 -> -2
	if got := c.UnixNs(999_999); got != 1_700_000_000_123_456_787 {
		t.Fatal(got)
	}
	if got := identityClock.UnixNs(42); got != 42 {
		t.Fatal(got)
	}
}

func TestCopyWordsAcquire(t *testing.T) {
	src := alignedCopy([]byte("0123456789abcdefXYZ"))
	for at := 0; at <= 12; at += 4 {
		for n := 0; at+n <= len(src); n++ {
			dst := make([]byte, n)
			copyWordsAcquire(dst, src, at)
			if string(dst) != string(src[at:at+n]) {
				t.Fatalf("at %d n %d: %q", at, n, dst)
			}
		}
	}
}

func TestDecodeRecordReasons(t *testing.T) {
	if _, err := DecodeRecord([]byte("plain")); err != ErrNotARecord {
		t.Fatal(err)
	}
	if _, err := DecodeRecord([]byte{0x9E}); err != ErrTruncated {
		t.Fatal(err)
	}
	if _, err := DecodeRecord([]byte{0x9E, 2}); err != ErrBadVersion {
		t.Fatal(err)
	}
}
