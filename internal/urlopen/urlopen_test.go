package urlopen

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestOpen(t *testing.T) {
	r := New[string]("kv")
	boom := errors.New("boom")
	r.Register("mem", func(_ context.Context, u *url.URL) (string, error) { return "mem:" + u.Host, nil })
	r.Register("bad", func(context.Context, *url.URL) (string, error) { return "", boom })

	if got, err := r.Open(context.Background(), "mem://x"); err != nil || got != "mem:x" {
		t.Fatalf("Open(mem://x) = %q, %v", got, err)
	}
	if _, err := r.Open(context.Background(), "bad://u:secret@h"); !errors.Is(err, boom) || strings.Contains(err.Error(), "secret") {
		t.Fatalf("opener error not wrapped or password leaked: %v", err)
	}
	for _, raw := range []string{"nope://x", "no-scheme", "%zz://"} {
		_, err := r.Open(context.Background(), raw)
		if err == nil || !strings.HasPrefix(err.Error(), "kv: open") {
			t.Errorf("Open(%q) = %v, want a kv: open error", raw, err)
		}
	}
	if _, err := r.Open(context.Background(), "redis://user:s3cret@ho st:1/0"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("malformed URL error leaks the password: %v", err)
	}
	if _, err := r.Open(context.Background(), "nope://x"); !strings.Contains(err.Error(), "[bad mem]") {
		t.Errorf("unknown scheme error does not list schemes: %v", err)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	r := New[int]("kv")
	r.Register("mem", func(context.Context, *url.URL) (int, error) { return 0, nil })
	defer func() {
		if recover() == nil {
			t.Fatal("second Register did not panic")
		}
	}()
	r.Register("mem", func(context.Context, *url.URL) (int, error) { return 0, nil })
}
