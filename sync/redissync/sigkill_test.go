package redissync_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/internal/testenv"
	ossync "github.com/microos/go-os/sync"
	"github.com/microos/go-os/sync/redissync"
)

const childEnv = "SYNC_REDISSYNC_CHILD"

// holdForever is the child process: take the lock, print its token, hold
// until killed.
func holdForever() {
	spec := strings.SplitN(os.Getenv(childEnv), " ", 3) // addr name ttl
	ttl, _ := time.ParseDuration(spec[2])
	c := redissync.New(redis.NewClient(&redis.Options{Addr: spec[0], ContextTimeoutEnabled: true}), ossync.WithTTL(ttl))
	l, err := c.Lock(context.Background(), spec[1])
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("token", l.Token())
	select {}
}

func init() {
	if os.Getenv(childEnv) != "" {
		holdForever()
	}
}

// A holder process SIGKILLed (no Unlock, no renewal): the lock is free
// after the TTL, not before, and the next holder's token is larger.
// Also the failover time of an election-like handover, quoted in the log.
func TestHolderProcessKilled(t *testing.T) {
	addr := testenv.Redis(t)
	const ttl = time.Second
	n := fmt.Sprintf("sigkill/%d", time.Now().UnixNano())
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+addr+" "+n+" "+ttl.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "token ") {
		t.Fatalf("child: %q %v", line, err)
	}
	childToken, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(line, "token ")), 10, 64)

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
