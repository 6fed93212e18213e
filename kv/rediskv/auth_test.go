package rediskv_test

import (
	"context"
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/kv/rediskv"
	"github.com/microos/go-os/oserr"
)

// TestCredentialsRefusedAreForbidden runs a redis-server with a password
// and checks that a missing password (NOAUTH), a wrong one (WRONGPASS) and
// a user without the ACL for the command (NOPERM) are kv.ErrForbidden,
// class Forbidden, not ErrUnavailable: retrying cannot help.
func TestCredentialsRefusedAreForbidden(t *testing.T) {
	addr := testenv.FreePort(t)
	testenv.StartRedisWith(t, addr, t.TempDir(), "--appendonly", "no", "--requirepass", "right-pass")

	admin := redis.NewClient(&redis.Options{Addr: addr, Password: "right-pass"})
	defer admin.Close()
	ctx := context.Background()
	// A user that may only read: SET is NOPERM.
	if err := admin.Do(ctx, "ACL", "SETUSER", "reader", "on", ">reader-pass", "~*", "+get", "+ping", "+hello", "+auth", "+client").Err(); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		url  string
	}{
		{"no password", "redis://" + addr + "/0"},
		{"wrong password", "redis://:wrong-pass@" + addr + "/0"},
		{"no permission", "redis://reader:reader-pass@" + addr + "/0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := kv.Open(ctx, tc.url)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = s.Set(ctx, kv.Item{Key: "forbidden-test", Value: []byte("v")})
			if !errors.Is(err, kv.ErrForbidden) || oserr.Code(err) != oserr.Forbidden {
				t.Fatalf("Set: %v (class %v), want kv.ErrForbidden", err, oserr.Code(err))
			}
			if errors.Is(err, kv.ErrUnavailable) {
				t.Fatalf("Set: %v is also ErrUnavailable", err)
			}
			var re redis.Error
			if !errors.As(err, &re) {
				t.Fatalf("Set: %v: the redis error is not reachable", err)
			}
			if err := s.Check(ctx); !errors.Is(err, kv.ErrForbidden) || oserr.Code(err) != oserr.Forbidden {
				t.Fatalf("Check after a refusal: %v, want class Forbidden", err)
			}
		})
	}

	// The right password works, through New as through Open.
	s := rediskv.New(admin)
	defer s.Close()
	if err := s.Set(ctx, kv.Item{Key: "forbidden-test", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
}
