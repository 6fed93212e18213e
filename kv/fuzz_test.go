package kv_test

import (
	"context"
	"errors"
	"testing"

	"github.com/microos/go-os/kv"
)

// URLs come from env vars and config: anything must give a Store or an
// error, never a panic.
func FuzzOpen(f *testing.F) {
	for _, s := range []string{"mem://", "mem://?namespace=a:", "redis://x", "%zz", "://", "mem://?namespace=%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		s, err := kv.Open(context.Background(), raw)
		if err != nil {
			return
		}
		s.Close()
	})
}

func FuzzValidateKey(f *testing.F) {
	f.Add("user:1")
	f.Add("a b")
	f.Fuzz(func(t *testing.T, key string) {
		err := kv.ValidateKey(key)
		if err != nil && !errors.Is(err, kv.ErrInvalidKey) {
			t.Fatalf("ValidateKey(%q) = %v, not ErrInvalidKey", key, err)
		}
		if err == nil && (key == "" || len(key) > kv.MaxKeyLen) {
			t.Fatalf("ValidateKey(%q) accepted it", key)
		}
	})
}
