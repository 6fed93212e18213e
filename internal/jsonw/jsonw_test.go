package jsonw_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/microos/go-os/internal/jsonw"
)

// AppendString writes what encoding/json writes for a string, but for
// its HTML escaping; and every output decodes back to the input (invalid
// UTF-8 as U+FFFD).
func check(t *testing.T, s string) {
	t.Helper()
	got := string(jsonw.AppendString(nil, s))
	var enc strings.Builder
	e := json.NewEncoder(&enc)
	e.SetEscapeHTML(false)
	if err := e.Encode(s); err != nil {
		t.Fatal(err)
	}
	var back, want string
	if err := json.Unmarshal([]byte(got), &back); err != nil {
		t.Fatalf("AppendString(%q) = %s: not JSON: %v", s, got, err)
	}
	json.Unmarshal([]byte(enc.String()), &want)
	if back != want {
		t.Fatalf("AppendString(%q) decodes to %q, encoding/json's to %q", s, back, want)
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "eight by", "a longer plain value, past a word", "quo\"te", "back\\slash",
		"nl\n\r\t", "\x00\x1f\x7f", "é世界", "\xff\xfe", "ok then \xff", "\u2028\u2029", "<>&", strings.Repeat("x", 17) + "\""} {
		check(t, s)
	}
	if got := string(jsonw.AppendString(nil, "<a>\u2028")); got != `"<a>\u2028"` {
		t.Fatalf("got %s, want HTML left alone and U+2028 escaped", got)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "quo\"te", "\xff", "\u2029", "12345678\n"} {
		f.Add(s)
	}
	f.Fuzz(check)
}

func BenchmarkAppendString(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = jsonw.AppendString(buf[:0], "GET /orders/{id} answered")
	}
}
