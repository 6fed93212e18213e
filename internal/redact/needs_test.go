package redact_test

import (
	"strings"
	"testing"

	"github.com/microos/go-os/internal/redact"
)

// needsRef is Needs written the obvious way, one byte at a time: the word
// at a time version must agree with it on every input.
func needsRef(s string) bool {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '@':
			return true
		case s[i] == ' ' && i >= 6 && strings.EqualFold(s[i-6:i], "bearer"):
			return true
		}
	}
	return false
}

// Every position of '@' and of "bearer " relative to the 8-byte words
// (first word, a word boundary, the overlapping last word, strings
// shorter than a word), and the near misses.
func TestNeedsAtEveryOffset(t *testing.T) {
	for n := 0; n <= 40; n++ {
		for _, plant := range []string{"@", "Bearer ", "BEARER ", "bearer\t", "beare ", "bearer", " "} {
			for at := 0; at+len(plant) <= n; at++ {
				s := strings.Repeat("x", at) + plant + strings.Repeat("y", n-at-len(plant))
				if got, want := redact.Needs(s), needsRef(s); got != want {
					t.Errorf("Needs(%q) = %v, want %v", s, got, want)
				}
			}
		}
		clean := strings.Repeat("a b/", n)[:n]
		if redact.Needs(clean) {
			t.Errorf("Needs(%q) = true for a clean value", clean)
		}
	}
}

func FuzzNeeds(f *testing.F) {
	for _, s := range []string{"", "GET /orders/{id}", "redis://:pw@h", "Authorization: Bearer abc", "12345678bearer x", "\x00\x00@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := redact.Needs(s), needsRef(s); got != want {
			t.Fatalf("Needs(%q) = %v, want %v", s, got, want)
		}
	})
}
