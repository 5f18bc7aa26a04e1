package ouroboros

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var vectorsDir = filepath.Join("..", "tests", "vectors")

type vectorEvent struct {
	Status     string     `json:"status"`
	Seq        uint64     `json:"seq,omitempty"`
	PayloadHex string     `json:"payload_hex,omitempty"`
	Kind       string     `json:"kind,omitempty"`
	Error      string     `json:"error,omitempty"`
	Level      string     `json:"level,omitempty"`
	UnixNs     *uint64    `json:"unix_ns,omitempty"`
	Ticks      bool       `json:"ticks,omitempty"`
	Timestamp  uint64     `json:"timestamp,omitempty"`
	Thread     uint32     `json:"thread,omitempty"`
	Truncated  bool       `json:"truncated,omitempty"`
	Tag        string     `json:"tag,omitempty"`
	Message    string     `json:"message,omitempty"`
	Fields     [][]string `json:"fields,omitempty"`
	Lost       uint64     `json:"lost,omitempty"`
	Detail     string     `json:"detail,omitempty"`
}

type vectorRead struct {
	Attach       string        `json:"attach"`
	AttachDetail string        `json:"attach_detail"`
	Events       []vectorEvent `json:"events"`
	Delivered    uint64        `json:"delivered"`
	Lost         uint64        `json:"lost"`
	Final        string        `json:"final"`
}

type vectorSpec struct {
	Name      string `json:"name"`
	Size      int    `json:"size"`
	Extension *struct {
		WriterPID         uint64 `json:"writer_pid"`
		WriterStartUnixNs uint64 `json:"writer_start_unix_ns"`
		Incarnation       uint64 `json:"incarnation"`
		HeartbeatUnixNs   uint64 `json:"heartbeat_unix_ns"`
		PayloadEncoding   uint32 `json:"payload_encoding"`
		Flags             uint32 `json:"flags"`
		Closed            bool   `json:"closed"`
		ChunkTargetSize   uint64 `json:"chunk_target_size"`
	} `json:"extension"`
	Reads map[string]vectorRead `json:"reads"`
}

func vectorNames(t testing.TB) []string {
	raw, err := os.ReadFile(filepath.Join(vectorsDir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	if err := json.Unmarshal(raw, &names); err != nil {
		t.Fatal(err)
	}
	return names
}

// eventOf renders a Next result the way the vectors do.
func eventOf(ev Event) vectorEvent {
	switch ev.Status {
	case Lapped:
		return vectorEvent{Status: "lapped", Lost: ev.Lost}
	case Corrupt:
		return vectorEvent{Status: "corrupt", Detail: ev.Detail}
	case OK:
	default:
		return vectorEvent{Status: ev.Status.String()}
	}
	e := ev.Entry
	out := vectorEvent{Status: "ok", Seq: e.Seq, PayloadHex: hex.EncodeToString(e.Payload), Kind: e.Kind.String()}
	switch e.Kind {
	case Malformed:
		out.Error = e.Error.Error()
	case KindRecord:
		r := e.Record
		out.Level = r.Level.String()
		if e.HasTime {
			v := e.UnixNs
			out.UnixNs = &v
		}
		out.Ticks = r.Ticks()
		out.Timestamp = r.Timestamp
		out.Thread = r.Thread
		out.Truncated = r.Truncated()
		out.Tag = r.Tag
		out.Message = r.Message
		out.Fields = [][]string{}
		for _, f := range r.Fields {
			field := []string{f.Key, f.Value}
			if f.Type != FieldString {
				field = append(field, fieldTypeName(f.Type))
			}
			out.Fields = append(out.Fields, field)
		}
	}
	return out
}

func TestVectors(t *testing.T) {
	names := vectorNames(t)
	if len(names) < 20 {
		t.Fatalf("only %d vectors", len(names))
	}
	for _, name := range names {
		raw, err := os.ReadFile(filepath.Join(vectorsDir, name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var spec vectorSpec
		if err := json.Unmarshal(raw, &spec); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, mode := range []Start{Oldest, Newest, Now} {
			t.Run(name+"/"+mode.String(), func(t *testing.T) {
				want := spec.Reads[mode.String()]
				r, err := FromFile(filepath.Join(vectorsDir, name+".bin"), mode)
				if err != nil {
					var ae *AttachError
					if !errors.As(err, &ae) {
						t.Fatalf("attach: %v", err)
					}
					if ae.Status != want.Attach || ae.Detail != want.AttachDetail || want.Final != "detached" {
						t.Fatalf("attach: got %s %q, want %s %q", ae.Status, ae.Detail, want.Attach, want.AttachDetail)
					}
					return
				}
				defer r.Close()
				if want.Attach != "ok" {
					t.Fatalf("attached, want %s", want.Attach)
				}
				got := []vectorEvent{}
				for i := 0; ; i++ {
					if i == 4096 {
						t.Fatal("no 'no data' within 4096 reads")
					}
					ev, err := r.Next()
					if err != nil {
						t.Fatal(err)
					}
					if ev.Status == NoData {
						break
					}
					got = append(got, eventOf(ev))
				}
				wantEvents := want.Events
				if wantEvents == nil {
					wantEvents = []vectorEvent{}
				}
				if !reflect.DeepEqual(got, wantEvents) {
					for i := range got {
						if i >= len(wantEvents) || !reflect.DeepEqual(got[i], wantEvents[i]) {
							t.Fatalf("event %d differs:\n got  %+v\n want %+v", i, got[i], safeIndex(wantEvents, i))
						}
					}
					t.Fatalf("got %d events, want %d", len(got), len(wantEvents))
				}
				if r.Delivered() != want.Delivered || r.Lost() != want.Lost {
					t.Fatalf("delivered/lost %d/%d, want %d/%d", r.Delivered(), r.Lost(), want.Delivered, want.Lost)
				}
				if mode != Oldest {
					return
				}
				info, ok := r.Extension()
				if (spec.Extension != nil) != ok {
					t.Fatalf("extension present %v, want %v", ok, spec.Extension != nil)
				}
				if ok {
					x := spec.Extension
					if info.WriterPID != x.WriterPID || info.WriterStartUnixNs != x.WriterStartUnixNs ||
						info.Incarnation != x.Incarnation || info.HeartbeatUnixNs != x.HeartbeatUnixNs ||
						info.PayloadEncoding != x.PayloadEncoding || info.Flags != x.Flags ||
						info.Closed() != x.Closed || info.ChunkTargetSize != x.ChunkTargetSize {
						t.Fatalf("extension %+v, want %+v", info, *x)
					}
					if x.Closed && r.Liveness() != Closed {
						t.Fatalf("liveness %v, want closed", r.Liveness())
					}
				}
			})
		}
	}
}

func safeIndex(events []vectorEvent, i int) any {
	if i < len(events) {
		return events[i]
	}
	return "(none)"
}

func fieldTypeName(t FieldType) string {
	switch t {
	case FieldI64:
		return "i64"
	case FieldU64:
		return "u64"
	case FieldF64:
		return "f64"
	case FieldBool:
		return "bool"
	}
	return "string"
}
