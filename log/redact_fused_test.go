package log

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"testing"
	"time"
)

type valuer string

func (v valuer) LogValue() slog.Value { return slog.StringValue(string(v)) }

// fusedAndChained returns what the Logger's JSON encoder with redaction
// fused in writes for r, and what a RedactHandler in front of the plain
// JSONHandler writes: the rule the fused path applies is the generic one.
func fusedAndChained(t *testing.T, with []slog.Attr, r slog.Record, keys ...string) (fused, chained string) {
	t.Helper()
	var fb, cb bytes.Buffer
	j := NewJSONHandler(&fb, nil)
	j.red = newRedactor(keys)
	var fh slog.Handler = j
	var ch slog.Handler = NewRedactHandler(NewJSONHandler(&cb, nil), keys...)
	if len(with) > 0 {
		fh, ch = fh.WithAttrs(with), ch.WithAttrs(with)
	}
	if err := fh.Handle(context.Background(), r.Clone()); err != nil {
		t.Fatal(err)
	}
	if err := ch.Handle(context.Background(), r.Clone()); err != nil {
		t.Fatal(err)
	}
	return fb.String(), cb.String()
}

func redactRecord(key, value string, n int64) slog.Record {
	r := slog.NewRecord(time.Time{}, slog.LevelInfo, "m", 0)
	r.AddAttrs(
		slog.String(key, value),
		slog.String("v", value),
		slog.Int64(key, n),
		slog.Bool(key, n&1 == 0),
		slog.Float64(key, float64(n)),
		slog.Group(key, slog.String("in", value)),
		slog.Group("g", slog.String(key, value), slog.Any("e", errors.New(value))),
		slog.Any(key, errors.New(value)),
		slog.Any("err", errors.New(value)),
		slog.Any(key, nil),
		slog.Any("valuer", valuer(value)),
		slog.Any(key, valuer(value)),
		slog.Any("u", &url.URL{Scheme: "redis", User: url.UserPassword("u", value), Host: "h"}),
		slog.String("", value),
	)
	return r
}

// TestRedactFusedMatchesHandler: for keys and values with and without
// secrets, the fused encoder writes byte for byte what the chain does.
func TestRedactFusedMatchesHandler(t *testing.T) {
	cases := []struct{ key, value string }{
		{"user", "alice"},
		{"password", "hunter2"},
		{"Authorization", "Bearer abc.def"},
		{"note", "bearer xyz"},
		{"note", "a Bearer token here"},
		{"dsn", "postgres://u:pw@db:5432/x"},
		{"note", "mail bob@example.com"},
		{"x-api-key", "k"},
		{"client_secret", ""},
		{"k", "@"},
		{"k", "ab@"},
		{"k", "bearer "},
		{"k", "quo\"te\\ \n\x00 é \xff"},
		{"émoji🔑", "token=abc"},
		{"token", "t"},
		{"grp", "redis://:pw@host:6379/0"},
	}
	for _, c := range cases {
		for _, keys := range [][]string{nil, {"note", "grp"}} {
			f, ch := fusedAndChained(t, []slog.Attr{slog.String(c.key, c.value), slog.String("with", c.value)}, redactRecord(c.key, c.value, 7), keys...)
			if f != ch {
				t.Errorf("key %q value %q keys %v:\nfused   %s\nchained %s", c.key, c.value, keys, f, ch)
			}
		}
	}
}

// FuzzRedactFused: whatever the key and value, fused and chained agree.
func FuzzRedactFused(f *testing.F) {
	f.Add("password", "hunter2", int64(1))
	f.Add("note", "Bearer abc", int64(2))
	f.Add("dsn", "redis://:pw@h", int64(3))
	f.Add("k", "xx r y@", int64(4))
	f.Add("Token", "\xffbearer\t", int64(5))
	f.Fuzz(func(t *testing.T, key, value string, n int64) {
		fu, ch := fusedAndChained(t, []slog.Attr{slog.String(key, value)}, redactRecord(key, value, n), "extra")
		if fu != ch {
			t.Fatalf("key %q value %q:\nfused   %s\nchained %s", key, value, fu, ch)
		}
	})
}
