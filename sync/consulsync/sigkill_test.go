package consulsync_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/microos/go-os/internal/testenv"
	ossync "github.com/microos/go-os/sync"
	"github.com/microos/go-os/sync/consulsync"
	"github.com/microos/go-os/sync/synctest"
)

const childEnv = "SYNC_CONSULSYNC_CHILD"

// leadForever is the child process: win the election, print the token,
// lead until killed.
func leadForever(spec string) (uint64, error) {
	f := strings.SplitN(spec, " ", 2) // addr election
	cfg := api.DefaultConfig()
	cfg.Address = f[0]
	c, err := api.NewClient(cfg)
	if err != nil {
		return 0, err
	}
	s := consulsync.New(c, ossync.WithTTL(consulsync.MinTTL), ossync.WithLockDelay(0))
	ld, err := s.Campaign(context.Background(), f[1], "child")
	if err != nil {
		return 0, err
	}
	return ld.Token(), nil
}

func init() { synctest.ChildMain(childEnv, leadForever) }

// The leader process is SIGKILLed: another candidate is elected once
// Consul invalidates the dead leader's session (between TTL and 2×TTL,
// lock-delay 0 here), with a larger token. The failover time is logged.
func TestLeaderProcessKilled(t *testing.T) {
	addr := testenv.Consul(t)
	election := fmt.Sprintf("sigkill-%d", time.Now().UnixNano())
	cmd, childToken := synctest.StartChild(t, childEnv, addr+" "+election)

	s := consulsync.New(client(t), ossync.WithTTL(consulsync.MinTTL), ossync.WithLockDelay(0), ossync.WithRetry(50*time.Millisecond, 200*time.Millisecond))
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if got, err := s.Leader(ctx, election); err != nil || got.Candidate != "child" {
		t.Fatalf("Leader = %+v, %v; want the child", got, err)
	}
	killed := time.Now()
	cmd.Process.Signal(os.Kill)
	cmd.Wait()
	ld, err := s.Campaign(ctx, election, "parent")
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(killed)
	if ld.Token() <= childToken {
		t.Fatalf("token %d after the killed leader's %d", ld.Token(), childToken)
	}
	t.Logf("TTL %s, lock-delay 0: new leader %s after SIGKILL of the old (token %d -> %d)", consulsync.MinTTL, took.Round(time.Millisecond), childToken, ld.Token())
	ld.Resign(ctx)
}
