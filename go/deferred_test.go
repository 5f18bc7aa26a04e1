package ouroboros

import (
	"encoding/hex"
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

type deferredCase struct {
	FormatHex string  `json:"format_hex"`
	ArgsHex   string  `json:"args_hex"`
	Message   *string `json:"message"`
	Error     *string `json:"error"`
}

func loadDeferredCases(t *testing.T) []deferredCase {
	raw, err := os.ReadFile(filepath.Join(vectorsDir, "deferred_render.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []deferredCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 60 {
		t.Fatalf("only %d cases", len(cases))
	}
	return cases
}

// Every case the C++ writer and renderer put in deferred_render.json renders the same here.
func TestDeferredVectorsRenderAsInCpp(t *testing.T) {
	for _, c := range loadDeferredCases(t) {
		format, _ := hex.DecodeString(c.FormatHex)
		args, _ := hex.DecodeString(c.ArgsHex)
		got, err := RenderDeferred(ParseDeferredFormat(format), args)
		switch {
		case c.Message != nil && (err != nil || got != *c.Message):
			t.Errorf("format %q: got %q (%v), want %q", format, got, err, *c.Message)
		case c.Error != nil && (err == nil || err.Error() != *c.Error):
			t.Errorf("format %q: got %q (%v), want error %q", format, got, err, *c.Error)
		}
	}
}

// Mutated and cut arguments give a message or an error, never a panic.
func TestDeferredHostileArgumentsNeverPanic(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	for _, c := range loadDeferredCases(t) {
		format, _ := hex.DecodeString(c.FormatHex)
		args, _ := hex.DecodeString(c.ArgsHex)
		parsed := ParseDeferredFormat(format)
		for k := 0; k < 30; k++ {
			mutated := append([]byte(nil), args...)
			if len(mutated) > 0 && rng.Intn(10) < 7 {
				mutated[rng.Intn(len(mutated))] = byte(rng.Intn(256))
			} else {
				mutated = mutated[:rng.Intn(len(mutated)+1)]
			}
			_, _ = RenderDeferred(parsed, mutated)
		}
	}
}

func TestDeferredBracesEscapeAndUnmatchedCloseIsRefused(t *testing.T) {
	if f := ParseDeferredFormat([]byte("{{x}} {{}}")); f.err != "" {
		t.Fatalf("escaped braces refused: %s", f.err)
	} else if text, err := RenderDeferred(f, nil); err != nil || text != "{x} {}" {
		t.Fatalf("rendered %q, %v; want \"{x} {}\"", text, err)
	}
	for _, bad := range []string{"a } b", "}", "x }}}"} {
		if f := ParseDeferredFormat([]byte(bad)); f.err != "unmatched '}' in format string" {
			t.Errorf("%q: reason %q", bad, f.err)
		}
	}
}
