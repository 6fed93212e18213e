package ringkv_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/microos/go-os/discovery/consuldiscovery"
	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/kv"
)

// Integration: instances find each other through the real Consul agent,
// with the discovery package, and share their keys; one that deregisters
// leaves the ring and its keys stay readable.
func TestMembershipFromConsul(t *testing.T) {
	addr := testenv.Consul(t)
	reg, err := consuldiscovery.Dial(&api.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	b := make([]byte, 4)
	rand.Read(b)
	f := newFleet(t, reg, "ringkv-test-"+hex.EncodeToString(b))
	for i := 0; i < 3; i++ {
		f.add()
	}
	t.Cleanup(func() {
		for _, n := range f.nodes {
			reg.Deregister(context.Background(), f.svc(n))
		}
	})
	f.converge()
	ctx := context.Background()
	s := f.nodes[0].ring.Store()
	defer s.Close()
	for i := 0; i < 50; i++ {
		if err := s.Set(ctx, kv.Item{Key: "consul-" + strconv.Itoa(i), Value: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	gone := f.nodes[0]
	if err := gone.ring.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	f.remove(gone)
	f.converge()
	for _, n := range f.nodes {
		st := n.ring.Store()
		for i := 0; i < 50; i++ {
			it, err := st.Get(ctx, "consul-"+strconv.Itoa(i))
			if err != nil || string(it.Value) != strconv.Itoa(i) {
				t.Fatalf("consul-%d through %s = %q, %v", i, n.url, it.Value, err)
			}
		}
		st.Close()
	}
}
