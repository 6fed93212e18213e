package discovery_test

import (
	"context"
	"errors"
	"testing"

	"github.com/microos/go-os/discovery"
)

// FuzzRegister feeds outside input (names, IDs, addresses, metadata from
// config or the network) to Register: it never panics, refuses bad input
// with ErrInvalidService, and what it accepts reads back identical.
func FuzzRegister(f *testing.F) {
	f.Add("api", "1.0", "api-1", "10.0.0.1", 8080, "zone-a", "k", "v")
	f.Add("a.b_c-d", "", "x", "::1", 0, "", "goos-version", "x")
	f.Add("", "\x00", "a/b", "", -1, "\n", "a.b", "")
	f.Add("a b", "v", "id with space", "h", 70000, "z", "consul-x", "v")
	m := discovery.NewMemory()
	f.Cleanup(func() { m.Close() })
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, name, version, id, addr string, port int, zone, key, value string) {
		n := &discovery.Node{ID: id, Address: addr, Port: port, Zone: zone, Metadata: map[string]string{key: value}}
		svc := &discovery.Service{Name: name, Version: version, Nodes: []*discovery.Node{n}}
		err := m.Register(ctx, svc)
		if err != nil {
			if !errors.Is(err, discovery.ErrInvalidService) {
				t.Fatalf("Register refused %+v with %v, want ErrInvalidService", svc, err)
			}
			if discovery.Validate(svc) == nil {
				t.Fatalf("Register refused what Validate accepts: %v", err)
			}
			return
		}
		defer m.Deregister(ctx, svc)
		got, err := m.GetService(ctx, name)
		if err != nil {
			t.Fatalf("GetService after Register: %v", err)
		}
		var found *discovery.Node
		for _, s := range got {
			for _, g := range s.Nodes {
				if g.ID == id && s.Version == version {
					found = g
				}
			}
		}
		if !found.Equal(n) {
			t.Fatalf("read back %+v, want %+v", found, n)
		}
	})
}

// FuzzOpen: any URL gives a registry or an error, never a panic.
func FuzzOpen(f *testing.F) {
	for _, s := range []string{"mem://", "consul://127.0.0.1:1?token=x&tls=1", "bogus://x", "://", "mem", "consul://h?wait=-1s", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r, err := discovery.Open(context.Background(), raw)
		if err == nil {
			r.Close()
		}
	})
}
