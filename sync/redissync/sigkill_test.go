package redissync_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/internal/testenv"
	ossync "github.com/microos/go-os/sync"
	"github.com/microos/go-os/sync/redissync"
	"github.com/microos/go-os/sync/synctest"
)

const childEnv = "SYNC_REDISSYNC_CHILD"

// holdForever is the child process: take the lock, print its token, hold
// until killed.
// holdForever is the child process: take the lock and hold it until killed.
func holdForever(spec string) (uint64, error) {
	f := strings.SplitN(spec, " ", 3) // addr name ttl
	ttl, _ := time.ParseDuration(f[2])
	c := redissync.New(redis.NewClient(&redis.Options{Addr: f[0], ContextTimeoutEnabled: true}), ossync.WithTTL(ttl))
	l, err := c.Lock(context.Background(), f[1])
	if err != nil {
		return 0, err
	}
	return l.Token(), nil
}

func init() { synctest.ChildMain(childEnv, holdForever) }

// A holder process SIGKILLed (no Unlock, no renewal): the lock is free
// after the TTL, not before, and the next holder's token is larger.
// Also the failover time of an election-like handover, quoted in the log.
func TestHolderProcessKilled(t *testing.T) {
	addr := testenv.Redis(t)
	const ttl = time.Second
	n := fmt.Sprintf("sigkill/%d", time.Now().UnixNano())
	cmd, childToken := synctest.StartChild(t, childEnv, addr+" "+n+" "+ttl.String())

	c := redissync.New(redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true}), ossync.WithTTL(ttl), ossync.WithRetry(5*time.Millisecond, 20*time.Millisecond))
	defer c.Close()
	ctx := context.Background()
	if _, err := c.TryLock(ctx, n); err == nil {
		t.Fatal("the child's lock was free while it lived")
	}
	killed := time.Now()
	cmd.Process.Signal(os.Kill)
	cmd.Wait()
	lctx, cancel := context.WithTimeout(ctx, 10*ttl)
	defer cancel()
	l, err := c.Lock(lctx, n)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(killed)
	if l.Token() <= childToken {
		t.Fatalf("token %d after the killed holder's %d", l.Token(), childToken)
	}
	t.Logf("TTL %s: lock taken over %s after SIGKILL of its holder (token %d -> %d)", ttl, took.Round(time.Millisecond), childToken, l.Token())
	l.Unlock(ctx)
}
