package consulsync_test

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

	"github.com/hashicorp/consul/api"

	"github.com/microos/go-os/internal/testenv"
	ossync "github.com/microos/go-os/sync"
	"github.com/microos/go-os/sync/consulsync"
)

const childEnv = "SYNC_CONSULSYNC_CHILD"

// leadForever is the child process: win the election, print the token,
// lead until killed.
func leadForever() {
	spec := strings.SplitN(os.Getenv(childEnv), " ", 2) // addr election
	cfg := api.DefaultConfig()
	cfg.Address = spec[0]
	c, _ := api.NewClient(cfg)
	s := consulsync.New(c, ossync.WithTTL(consulsync.MinTTL), ossync.WithLockDelay(0))
	ld, err := s.Campaign(context.Background(), spec[1], "child")
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("token", ld.Token())
	select {}
}

func init() {
	if os.Getenv(childEnv) != "" {
		leadForever()
	}
}

// The leader process is SIGKILLed: another candidate is elected once
// Consul invalidates the dead leader's session (between TTL and 2×TTL,
// lock-delay 0 here), with a larger token. The failover time is logged.
func TestLeaderProcessKilled(t *testing.T) {
	addr := testenv.Consul(t)
	election := fmt.Sprintf("sigkill-%d", time.Now().UnixNano())
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+addr+" "+election)
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
