package consulsync_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/oserr"
	ossync "github.com/microos/go-os/sync"
	"github.com/microos/go-os/sync/consulsync"
)

// The path to Consul is cut while a lease is held (to the holder, the
// same as the server dying): the lease ends within the TTL, Check says
// unavailable; the path comes back and Lock works again.
func TestConsulCutWhileHolding(t *testing.T) {
	p := testenv.NewProxy(t, testenv.Consul(t))
	p.Start()
	cfg := api.DefaultNonPooledConfig()
	cfg.Address = p.Addr()
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ttl := consulsync.MinTTL
	s := consulsync.New(c, ossync.WithTTL(ttl), ossync.WithLockDelay(0), ossync.WithRetry(20*time.Millisecond, 200*time.Millisecond))
	defer s.Close()
	ctx := context.Background()
	n := fmt.Sprintf("cut-%d", time.Now().UnixNano())
	l, err := s.Lock(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	p.Stop()
	<-l.Done()
	if took := time.Since(cut); took > ttl {
		t.Fatalf("lease ended %s after the cut, past the TTL %s", took, ttl)
	}
	if !errors.Is(l.Err(), ossync.ErrLost) {
		t.Fatalf("Err = %v, want ErrLost", l.Err())
	}
	t.Logf("TTL %s: lease context cancelled %s after the backend went away", ttl, time.Since(cut).Round(time.Millisecond))
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	err = s.Check(cctx)
	cancel()
	if oserr.Code(err) != oserr.Unavailable {
		t.Fatalf("Check with the path cut: %v, want unavailable", err)
	}
	p.Start()
	// The old session lives on in Consul until it expires (up to 2×TTL):
	// the lock comes back then.
	lctx, cancel := context.WithTimeout(ctx, 3*ttl)
	defer cancel()
	l2, err := s.Lock(lctx, n)
	if err != nil {
		t.Fatalf("Lock after the path came back: %v", err)
	}
	if l2.Token() <= l.Token() {
		t.Fatalf("token %d after %d", l2.Token(), l.Token())
	}
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check after the path came back: %v", err)
	}
	l2.Unlock(ctx)
}
