package consulsync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/microos/go-os/internal/testenv"
	ossync "github.com/microos/go-os/sync"
	"github.com/microos/go-os/sync/consulsync"
)

// server is one Consul server of a three-server cluster the test runs on
// loopback, with the consul binary scripts/backends built.
type server struct {
	name                        string
	http, serfLAN, serfWAN, rpc string
	cmd                         *exec.Cmd
	exit                        chan struct{}
}

func freePort(t *testing.T) string {
	_, p, _ := net.SplitHostPort(testenv.FreePort(t))
	return p
}

func (s *server) addr() string { return "127.0.0.1:" + s.http }

func (s *server) start(t *testing.T, bin string, join []string) {
	t.Helper()
	args := []string{"agent", "-server", "-bootstrap-expect", "3", "-node", s.name, "-data-dir", t.TempDir(),
		"-bind", "127.0.0.1", "-client", "127.0.0.1",
		"-http-port", s.http, "-serf-lan-port", s.serfLAN, "-serf-wan-port", s.serfWAN, "-server-port", s.rpc,
		"-https-port", "-1", "-grpc-port", "-1", "-grpc-tls-port", "-1", "-dns-port", "-1", "-log-level", "error",
		// Loopback is a fast network: let Raft notice a dead leader in
		// about a second instead of the WAN-safe defaults' several.
		"-hcl", `performance { raft_multiplier = 1 }`}
	for _, j := range join {
		args = append(args, "-retry-join", j)
	}
	s.cmd = exec.Command(bin, args...)
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", s.name, err)
	}
	s.exit = make(chan struct{})
	go func(cmd *exec.Cmd, exit chan struct{}) { cmd.Wait(); close(exit) }(s.cmd, s.exit)
	t.Cleanup(s.kill)
}

func (s *server) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exit
	s.cmd = nil
}

// leader asks s which server leads (its serf/rpc address), "" while none does.
func (s *server) leader() string {
	c := &http.Client{Timeout: time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Get("http://" + s.addr() + "/v1/status/leader")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var l string
	if resp.StatusCode != 200 || json.Unmarshal(b, &l) != nil {
		return ""
	}
	return l
}

// waitLeader polls s until it names a leader other than not, within d.
func waitLeader(t *testing.T, s *server, not string, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if l := s.leader(); l != "" && l != not {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no new leader within %s (old %q)", s.name, d, not)
		}
		time.Sleep(20 * time.Millisecond) // polling an outside process: there is nothing to wait on
	}
}

// A lock is held through a three-server cluster while the Raft leader is
// SIGKILLed: the holder's lease either survives (renewals succeed once a
// new leader is elected) or is reported lost; in neither case does a
// second client hold the lock while the first believes it does. The time
// to a new leader is logged.
func TestClusterLeaderKilledWhileHolding(t *testing.T) {
	bin := testenv.ConsulBinary(t)
	servers := make([]*server, 3)
	for i := range servers {
		servers[i] = &server{name: fmt.Sprintf("sync-cluster-%d", i), http: freePort(t), serfLAN: freePort(t), serfWAN: freePort(t), rpc: freePort(t)}
	}
	for i, s := range servers {
		var join []string
		for j, o := range servers {
			if j != i {
				join = append(join, "127.0.0.1:"+o.serfLAN)
			}
		}
		s.start(t, bin, join)
	}
	leaderAddr := waitLeader(t, servers[0], "", 60*time.Second)
	var leader *server
	var others []*server
	for _, s := range servers {
		if strings.HasSuffix(leaderAddr, ":"+s.rpc) {
			leader = s
		} else {
			others = append(others, s)
		}
	}
	if leader == nil {
		t.Fatalf("leader %s is none of the servers", leaderAddr)
	}
	// Sessions need the node's serfHealth check: wait until both followers
	// have theirs passing, as seen through the server the clients use.
	newClient := func(s *server) *api.Client {
		cfg := api.DefaultNonPooledConfig()
		cfg.Address = s.addr()
		c, err := api.NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	holderAPI, rivalAPI := newClient(others[0]), newClient(others[1])
	ctx := context.Background()
	ttl := consulsync.MinTTL
	opts := []ossync.Option{ossync.WithTTL(ttl), ossync.WithLockDelay(0), ossync.WithRetry(20*time.Millisecond, 200*time.Millisecond)}
	holder := consulsync.New(holderAPI, opts...)
	defer holder.Close()
	rival := consulsync.New(rivalAPI, opts...)
	defer rival.Close()

	name := fmt.Sprintf("cluster-%d", time.Now().UnixNano())
	lctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	l, err := holder.Lock(lctx, name)
	cancel()
	if err != nil {
		t.Fatalf("Lock through a follower: %v", err)
	}

	killed := time.Now()
	leader.kill()
	newLeader := waitLeader(t, others[0], leaderAddr, 60*time.Second)
	elected := time.Since(killed)
	t.Logf("leader %s killed: %s elected after %s", leaderAddr, newLeader, elected.Round(time.Millisecond))

	// Through the whole window the rival must not get the lock while the
	// holder believes it holds it. Try until the window the lease could
	// have run out in (2×TTL after the kill) has passed.
	until := killed.Add(2 * ttl)
	tries := 0
	for time.Now().Before(until) {
		tries++
		tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		rl, err := rival.TryLock(tctx, name)
		cancel()
		if err == nil {
			select {
			case <-l.Done():
				t.Logf("rival took the lock after the holder learned it lost it (%v); tokens %d → %d", l.Err(), l.Token(), rl.Token())
				if rl.Token() <= l.Token() {
					t.Fatalf("rival's token %d is not larger than the lost holder's %d", rl.Token(), l.Token())
				}
				rl.Unlock(ctx)
				return
			default:
				t.Fatalf("two holders: the rival got the lock (token %d) while the holder's lease (token %d) is live", rl.Token(), l.Token())
			}
		}
		select {
		case <-l.Done():
		case <-time.After(200 * time.Millisecond): // the rival's retry pace
		}
	}
	select {
	case <-l.Done():
		t.Logf("lease reported lost after the leader's death: %v (%d rival tries refused)", l.Err(), tries)
	default:
		t.Logf("lease survived the leader's death (%d rival tries refused while it was live)", tries)
		if err := l.Unlock(ctx); err != nil {
			t.Fatalf("Unlock after failover: %v", err)
		}
	}
}
