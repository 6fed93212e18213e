package consuldiscovery_test

import (
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/discovery/consuldiscovery"
	"github.com/microos/go-os/internal/testenv"
)

// consulBinary is the consul program scripts/backends built.
func consulBinary(t *testing.T) string { return testenv.ConsulBinary(t) }

// agent is a Consul dev agent the test starts and kills.
type agent struct {
	bin   string
	extra []string  // more flags
	ports [4]string // http, serf lan, serf wan, server
	cmd   *exec.Cmd
	exit  chan struct{}
}

func port(t *testing.T) string {
	_, p, _ := net.SplitHostPort(testenv.FreePort(t))
	return p
}

func newAgent(t *testing.T) *agent {
	a := &agent{bin: consulBinary(t), ports: [4]string{port(t), port(t), port(t), port(t)}}
	t.Cleanup(a.kill)
	return a
}

func (a *agent) addr() string { return "127.0.0.1:" + a.ports[0] }

// start runs a fresh agent (empty state) and waits until it has a leader.
func (a *agent) start(t *testing.T) {
	t.Helper()
	a.cmd = exec.Command(a.bin, "agent", "-dev", "-node", "outage-test", "-bind", "127.0.0.1", "-client", "127.0.0.1",
		"-http-port", a.ports[0], "-serf-lan-port", a.ports[1], "-serf-wan-port", a.ports[2], "-server-port", a.ports[3],
		"-https-port", "-1", "-grpc-port", "-1", "-grpc-tls-port", "-1", "-dns-port", "-1", "-log-level", "error")
	a.cmd.Args = append(a.cmd.Args, a.extra...)
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("start consul: %v", err)
	}
	a.exit = make(chan struct{})
	go func(cmd *exec.Cmd, exit chan struct{}) { cmd.Wait(); close(exit) }(a.cmd, a.exit)
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get("http://" + a.addr() + "/v1/status/leader")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.Contains(string(body), ":") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("consul on %s not ready after 30s: %v", a.addr(), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (a *agent) kill() {
	if a.cmd == nil {
		return
	}
	a.cmd.Process.Kill()
	<-a.exit
	a.cmd = nil
}

// countingTransport counts the requests that reach the network.
type countingTransport struct {
	base *http.Transport
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(req)
}

func dialCounting(t *testing.T, addr string, opts ...discovery.Option) (discovery.Registry, *countingTransport) {
	ct := &countingTransport{base: api.DefaultConfig().Transport}
	t.Cleanup(ct.base.CloseIdleConnections)
	cfg := api.DefaultConfig()
	cfg.Address = addr
	cfg.HttpClient = &http.Client{Transport: ct}
	r, err := consuldiscovery.Dial(cfg, consuldiscovery.WithRegistryOptions(opts...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, ct
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
