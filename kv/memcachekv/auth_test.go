package memcachekv_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/kv/memcachekv"
	"github.com/microos/go-os/oserr"
)

// TestUnauthenticatedIsForbidden runs a memcached of its own with
// text-protocol authentication (-Y): gomemcache cannot authenticate, so
// every call is refused, and that must be kv.ErrForbidden, not
// ErrUnavailable.
func TestUnauthenticatedIsForbidden(t *testing.T) {
	addr := testenv.FreePort(t)
	host, port, _ := net.SplitHostPort(addr)
	auth := filepath.Join(t.TempDir(), "auth")
	if err := os.WriteFile(auth, []byte("user:secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-l", host, "-p", port, "-U", "0", "-Y", auth}
	if os.Getuid() == 0 {
		args = append(args, "-u", "root") // memcached refuses to run as root otherwise
	}
	cmd := exec.Command(testenv.Binary(t, "memcached"), args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	s, err := memcachekv.New([]string{addr}, []memcachekv.Option{memcachekv.WithTimeout(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err = s.Set(ctx, kv.Item{Key: "auth-test", Value: []byte("v")})
		if !errors.Is(err, kv.ErrUnavailable) || time.Now().After(deadline) {
			break // memcached is listening (or never will)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !errors.Is(err, kv.ErrForbidden) || oserr.Code(err) != oserr.Forbidden {
		t.Fatalf("Set: %v (class %v), want kv.ErrForbidden", err, oserr.Code(err))
	}
	if _, err := s.Get(ctx, "auth-test"); !errors.Is(err, kv.ErrForbidden) {
		t.Fatalf("Get: %v, want kv.ErrForbidden", err)
	}
}
