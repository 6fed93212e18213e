package config_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/microos/go-os/config"
)

// Fixes from a bug review, each pinned.

func newReviewConfig(t *testing.T, values map[string]any) *config.Config {
	t.Helper()
	c, err := config.New(context.Background(), []config.Source{config.NewMemory(values)}, config.WithStrictStart())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Out-of-range durations are not wrapped into garbage: the getter gives
// its default.
func TestDurationOutOfRange(t *testing.T) {
	c := newReviewConfig(t, map[string]any{"nan": "nan", "inf": "inf", "huge": 1e12, "ok": "1.5"})
	for _, k := range []string{"nan", "inf", "huge"} {
		if d := c.Get(k).Duration(5 * time.Second); d != 5*time.Second {
			t.Errorf("Duration(%s) = %v, want the default 5s", k, d)
		}
	}
	if d := c.Get("ok").Duration(0); d != 1500*time.Millisecond {
		t.Errorf("Duration(1.5) = %v", d)
	}
}

type inner struct{ Port int }

type withUnexportedEmbedded struct {
	*inner
	Host string
}

// Scan refuses what it cannot set (as encoding/json does) instead of
// panicking.
func TestScanUnexportedEmbeddedPointer(t *testing.T) {
	c := newReviewConfig(t, map[string]any{"host": "db", "port": 5432})
	var dst withUnexportedEmbedded
	err := c.Scan(&dst)
	if !errors.Is(err, config.ErrType) {
		t.Fatalf("Scan = %v, want ErrType", err)
	}
}

// A NaN in the config is not a change on every reload.
func TestNaNIsNotAChange(t *testing.T) {
	m := config.NewMemory(map[string]any{"ratio": math.NaN()})
	c, err := config.New(context.Background(), []config.Source{m}, config.WithStrictStart())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v := c.Snapshot().Version()
	for i := 0; i < 3; i++ {
		if err := c.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Snapshot().Version(); got != v {
		t.Fatalf("three reloads of an unchanged config with a NaN moved the version %d -> %d", v, got)
	}
}

// Passwords url.Parse cannot read, and DSNs without a scheme, are masked
// in the dump too.
func TestRedactedDumpMasksUnparsablePasswords(t *testing.T) {
	c := newReviewConfig(t, map[string]any{
		"a": "postgres://app:s3cr#t@db:5432/app",
		"b": "postgres://app:pa/ss@db:5432/app",
		"c": "app:hunter2@tcp(db:3306)/app",
		"d": "redis://:pw@cache:6379",
		"e": "mailto admin@example.com at 10:00",
	})
	out := c.Snapshot().String()
	for _, secret := range []string{"s3cr#t", "pa/ss", "hunter2", ":pw@"} {
		if strings.Contains(out, secret) {
			t.Errorf("the dump shows %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "admin@example.com at 10:00") {
		t.Errorf("plain text with an @ was mangled: %s", out)
	}
}

func TestOpenRefusesUnknownParameters(t *testing.T) {
	for _, raw := range []string{"file:///etc/app.json?optinal=true", "env://APP_?separator=__"} {
		if _, err := config.OpenSource(context.Background(), raw); err == nil {
			t.Errorf("Open(%q) accepted it", raw)
		}
	}
}
