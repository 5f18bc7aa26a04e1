package ouroboros

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeRecord: the record decoder never panics, and whatever it accepts is valid UTF-8 with
// sizes that fit the payload.
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x9E})
	f.Add([]byte{0x9E, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 'x', 1, 'k', 1, 0, 'v', 'm'})
	for _, name := range []string{"records", "records_malformed"} {
		if r, err := FromFile(filepath.Join(vectorsDir, name+".bin"), Oldest); err == nil {
			for {
				ev, _ := r.Next()
				if ev.Status == NoData {
					break
				}
				if ev.Status == OK {
					f.Add(ev.Entry.Payload)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		rec, err := DecodeRecord(p)
		if err != nil {
			return
		}
		if !utf8.ValidString(rec.Tag) || !utf8.ValidString(rec.Message) {
			t.Fatal("accepted invalid UTF-8")
		}
		size := recordFixedSize + len(rec.Tag) + len(rec.Message)
		for _, fl := range rec.Fields {
			size += 3 + len(fl.Key) + len(fl.Value)
			if !utf8.ValidString(fl.Key) || !utf8.ValidString(fl.Value) {
				t.Fatal("accepted invalid UTF-8 in a field")
			}
		}
		if size != len(p) || int(rec.Level) > 5 {
			t.Fatalf("decoded sizes %d != payload %d", size, len(p))
		}
	})
}

// FuzzReader: arbitrary bytes (seeded with every vector) never make the reader panic, hang or
// deliver sequence numbers out of order, in any start mode.
func FuzzReader(f *testing.F) {
	names, _ := os.ReadDir(vectorsDir)
	for _, e := range names {
		if filepath.Ext(e.Name()) == ".bin" {
			if data, err := os.ReadFile(filepath.Join(vectorsDir, e.Name())); err == nil && len(data) < 4096 {
				f.Add(data, uint8(0))
			}
		}
	}
	// Forged tables that once cost a scan of the whole table per row (issue 10, item 3).
	f.Add(craftCorruptRows(1<<16), uint8(0))
	f.Add(craftEmptyChain(1<<12), uint8(0))
	f.Add(craftEqualPairs(1<<12), uint8(0))
	f.Add(craftPlausibleLoops(1<<12), uint8(0))
	hdr := make([]byte, 64)
	binary.LittleEndian.PutUint64(hdr, bufferMagic)
	binary.LittleEndian.PutUint32(hdr[8:], 1)
	binary.LittleEndian.PutUint32(hdr[12:], 1)
	f.Add(hdr, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		r, err := FromBytes(data, Start(mode%3))
		if err != nil {
			return
		}
		defer r.Close()
		var last uint64
		for i := 0; i < 4096; i++ {
			ev, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			if ev.Status == NoData {
				break
			}
			if ev.Status == OK {
				if ev.Entry.Seq <= last && last != 0 {
					t.Fatalf("sequence %d after %d", ev.Entry.Seq, last)
				}
				last = ev.Entry.Seq
				if len(ev.Entry.Payload) > len(data) {
					t.Fatal("payload larger than the buffer")
				}
			}
		}
		r.Extension()
	})
}

// FuzzRenderDeferred: any format string with any encoded arguments renders valid UTF-8 or fails
// with a reason, never panics (seeded with tests/vectors/deferred_render.json).
func FuzzRenderDeferred(f *testing.F) {
	f.Add([]byte("n={} s={:>4}"), []byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 7, 1, 0, 0, 0, 'x'})
	if raw, err := os.ReadFile(filepath.Join(vectorsDir, "deferred_render.json")); err == nil {
		var cases []struct {
			FormatHex string `json:"format_hex"`
			ArgsHex   string `json:"args_hex"`
		}
		if json.Unmarshal(raw, &cases) == nil {
			for _, c := range cases {
				format, _ := hex.DecodeString(c.FormatHex)
				args, _ := hex.DecodeString(c.ArgsHex)
				f.Add(format, args)
			}
		}
	}
	f.Fuzz(func(t *testing.T, format, args []byte) {
		text, err := RenderDeferred(ParseDeferredFormat(format), args)
		if err == nil && !utf8.ValidString(text) {
			t.Fatal("rendered invalid UTF-8")
		}
	})
}
