package consulmonitor_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/microos/go-os/discovery/consuldiscovery"
	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/monitor"
	"github.com/microos/go-os/monitor/consulmonitor"
	"github.com/microos/go-os/router"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The service registered in the real Consul with a critical check on a
// Redis of the test's own: kill Redis → readiness false, the Consul check
// critical, the node gone from another client's passing-only lookup;
// Redis back → all of it back.
func TestEndToEndRedisOutage(t *testing.T) {
	consulAddr := testenv.Consul(t)
	redisAddr := testenv.FreePort(t)
	cmd := testenv.StartRedis(t, redisAddr)

	svc := fmt.Sprintf("monitor-e2e-%d", time.Now().UnixNano())
	id := svc + "-1"
	tr := &http.Transport{}            // closed at the end: no idle connection left for goleak
	t.Cleanup(tr.CloseIdleConnections) // after the deregistration below
	defer http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	owner, err := api.NewClient(&api.Config{Address: consulAddr, HttpClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: id, Name: svc, Address: "127.0.0.1", Port: 8080}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Agent().ServiceDeregister(id) })

	rdb := redis.NewClient(&redis.Options{Addr: redisAddr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	sink := consulmonitor.New(owner, id, consulmonitor.WithTTL(10*time.Second))
	m := monitor.New(monitor.WithService(svc, "test", id), monitor.WithSink(sink),
		monitor.WithPublishInterval(50*time.Millisecond), monitor.WithRetry(20*time.Millisecond, 200*time.Millisecond))
	defer m.Close()
	m.Add("redis", func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		monitor.Critical(), monitor.Interval(50*time.Millisecond), monitor.Timeout(300*time.Millisecond))
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()

	other, _ := api.NewClient(&api.Config{Address: consulAddr, HttpClient: &http.Client{Transport: tr}})
	passing := func() int {
		es, _, err := other.Health().Service(svc, "", true, nil)
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	consulStatus := func() string {
		cs, _, err := other.Health().Checks(svc, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.CheckID == sink.CheckID("redis") {
				return c.Status
			}
		}
		return ""
	}
	ready := func() int {
		res, err := http.Get(srv.URL + "/health/ready")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	waitFor := func(what string, f func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for !f() {
			if time.Since(start) > 20*time.Second {
				t.Fatalf("%s: not within 20s", what)
			}
			time.Sleep(10 * time.Millisecond) // polling a remote state, not synchronising with our own code
		}
		return time.Since(start)
	}
	// the router of another client, on discovery's passing-only view of Consul
	reg := consuldiscovery.New(other, consuldiscovery.WithWaitTime(2*time.Second))
	defer reg.Close()
	rt := router.New(reg)
	defer rt.Close()
	picks := func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		p, err := rt.Pick(ctx, svc, "")
		if err != nil {
			if !errors.Is(err, router.ErrNoNodes) {
				t.Logf("pick: %v", err)
			}
			return false
		}
		p.Done(nil, time.Millisecond)
		return p.Node.ID == id || strings.HasPrefix(p.Node.Address, "127.0.0.1")
	}

	waitFor("healthy at start", func() bool { return ready() == 200 && consulStatus() == api.HealthPassing && passing() == 1 })
	waitFor("router picks at start", picks)

	cmd.Process.Kill()
	cmd.Wait()
	killed := time.Now()
	waitFor("readiness false", func() bool { return ready() == 503 })
	tReady := time.Since(killed)
	waitFor("consul critical", func() bool { return consulStatus() == api.HealthCritical })
	tConsul := time.Since(killed)
	waitFor("gone from passing lookup", func() bool { return passing() == 0 })
	tGone := time.Since(killed)
	waitFor("router stops picking", func() bool { return !picks() })
	t.Logf("router stopped picking the node %v after the kill", time.Since(killed).Round(time.Millisecond))
	t.Logf("redis killed → ready 503 after %v, consul check critical after %v, gone from another client's passing-only lookup after %v",
		tReady.Round(time.Millisecond), tConsul.Round(time.Millisecond), tGone.Round(time.Millisecond))
	if st := m.Status(); st != monitor.StatusUnhealthy {
		t.Fatalf("status %s", st)
	}

	testenv.StartRedis(t, redisAddr)
	back := time.Now()
	waitFor("ready again", func() bool { return ready() == 200 })
	rb := time.Since(back)
	waitFor("consul passing", func() bool { return consulStatus() == api.HealthPassing })
	cb := time.Since(back)
	waitFor("back in passing lookup", func() bool { return passing() == 1 })
	pb := time.Since(back)
	waitFor("router picks again", picks)
	t.Logf("router picks the node again %v after Redis came back (passing lookup: %v)", time.Since(back).Round(time.Millisecond), pb.Round(time.Millisecond))
	t.Logf("redis back → ready 200 after %v, consul check passing after %v, back in passing-only lookup after %v",
		rb.Round(time.Millisecond), cb.Round(time.Millisecond), time.Since(back).Round(time.Millisecond))
	if err := m.Check(context.Background()); err != nil {
		t.Fatalf("monitor Check: %v", err)
	}
	sink.Deregister(context.Background())
}

// A Consul agent that accepts and never answers: the publishes are cut at
// their timeout, the monitor reports the sink failing, and the checks keep
// running on their schedule meanwhile.
func TestHungConsulNeverBlocksChecks(t *testing.T) {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := api.NewClient(&api.Config{Address: testenv.Hung(t), HttpClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	sink := consulmonitor.New(c, "nobody")
	m := monitor.New(monitor.WithSink(sink), monitor.WithPublishInterval(100*time.Millisecond), monitor.WithRetry(10*time.Millisecond, 50*time.Millisecond))
	defer m.Close()
	m.Add("fast", func(context.Context) error { return nil }, monitor.Interval(10*time.Millisecond))
	for m.Check(context.Background()) == nil { // the first publish is held by the hung agent until its timeout
		<-m.Changed()
	}
	// while publishes are held (publish timeout 1s), checks still ran
	cs, _ := m.CheckState("fast")
	if cs.Runs < 5 {
		t.Fatalf("only %d check runs while the sink hung", cs.Runs)
	}
	if err := m.Check(context.Background()); !errors.Is(err, monitor.ErrSink) {
		t.Fatalf("Check %v, want ErrSink", err)
	}
	t.Logf("sink failing: %v (after %d check runs)", m.Check(context.Background()), cs.Runs)
}
