package ouroboros

import (
	"math"
	"testing"
)

// typedRecord is the C++ golden typed-field record (record_encoding_test TypedFields.GoldenBytes)
// with the given type byte and text for its first field.
func typedRecord(typ byte, text string) []byte {
	p := []byte{0x9E, 3, 3, 0, 7, 0, 0, 0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 1, 2, 't', 1, 'n', typ, byte(len(text)), 0}
	p = append(p, text...)
	return append(p, 1, 's', 7, 1, 0, 'v', 'h', 'i')
}

func TestTypedFieldsDecode(t *testing.T) {
	cases := []struct {
		typ  byte
		text string
		want interface{}
	}{
		{1, "12", int64(12)},
		{1, "-9223372036854775808", int64(math.MinInt64)},
		{2, "18446744073709551615", uint64(math.MaxUint64)},
		{3, "1e+16", 1e16},
		{3, "-inf", math.Inf(-1)},
		{5, "false", false},
		{7, "12", "12"},
	}
	for _, c := range cases {
		r, err := DecodeRecord(typedRecord(c.typ, c.text))
		if err != nil {
			t.Fatalf("%q: %v", c.text, err)
		}
		if len(r.Fields) != 2 || r.Fields[0].Value != c.text || r.Fields[1].Type != FieldString {
			t.Fatalf("%q: fields %+v", c.text, r.Fields)
		}
		if got := r.Fields[0].Typed(); got != c.want {
			t.Errorf("%q: Typed() = %#v, want %#v", c.text, got, c.want)
		}
		if r.Message != "hi" {
			t.Errorf("message %q", r.Message)
		}
	}
	r, err := DecodeRecord(typedRecord(3, "-nan"))
	if err != nil || !math.IsNaN(r.Fields[0].Typed().(float64)) {
		t.Errorf("-nan: %v %v", r.Fields, err)
	}
}

func TestTypedFieldsHostile(t *testing.T) {
	for _, c := range []struct {
		typ  byte
		text string
		want error
	}{
		{0, "1", ErrBadField},
		{4, "1", ErrBadField},
		{8, "1", ErrBadField},
		{0xFF, "1", ErrBadField},
		{1, "-0", ErrBadField},
		{1, "01", ErrBadField},
		{1, "9223372036854775808", ErrBadField},
		{2, "-1", ErrBadField},
		{2, "18446744073709551616", ErrBadField},
		{3, "NaN", ErrBadField},
		{3, ".5", ErrBadField},
		{5, "1", ErrBadField},
		{1, "\xff", ErrInvalidUTF8},
	} {
		if _, err := DecodeRecord(typedRecord(c.typ, c.text)); err != c.want {
			t.Errorf("type %d %q: %v, want %v", c.typ, c.text, err, c.want)
		}
	}
	good := typedRecord(1, "12")
	for n := 1; n < len(good)-2; n++ { // without the message every cut is inside the record
		if _, err := DecodeRecord(good[:n]); err != ErrTruncated {
			t.Errorf("length %d: %v", n, err)
		}
	}
	bad := typedRecord(1, "12")
	bad[20] = 0xC0 // the key
	if _, err := DecodeRecord(bad); err != ErrInvalidUTF8 {
		t.Errorf("bad key: %v", err)
	}
}
