package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/microos/go-os/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The demo is documentation: it must keep running on the memory defaults
// and show what it claims. Each assertion is on a line the walkthrough
// prints from the system's own state (the recorder, kv, the router's
// stats, the metrics snapshot), not on our own counters.
func TestDemo(t *testing.T) {
	s := runDemo(t, options{})
	check(t, s, append(facts(),
		// the log line carries the trace id the request came with
		`"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736".*"service":"greeter"`,
		`gateway-1 GET /hello/\{name\}\s+2xx 16`,
		// ringkv: both instances hold the key; after the crash counter-2's
		// copy carries on, and its ring check (not critical) says it is alone
		`visits:ada = 5\n  ringkv: the instances' memory, each key on both: counter-1 holds 1 key, counter-2 1\n`,
		`status degraded\n  failing, not critical: counter-2/ringkv \(unavailable\)\n`,
	))
	if strings.Contains(s, "== backends") {
		t.Errorf("the embedded run names its backends as if they were real:\n%s", s)
	}
	if n := strings.Count(s, "\n"); n > 40 {
		t.Errorf("demo output is %d lines, more than one screen", n)
	}
}

// The same binary on the servers of scripts/backends: every fact is now
// read from a real backend. The timeline is what Jaeger answers for the
// trace id, the counts are what statsd_exporter received, the count is in
// Redis, the leader was elected by Consul sessions, the event went through
// Redis Streams. The run's names have a prefix of their own, so that other
// tests on the same servers do not meet it. The tokens come from the
// OpenID provider, for two of its clients.
func TestDemoOnRealBackends(t *testing.T) {
	redis, consul := testenv.Redis(t), testenv.Consul(t)
	spans, query := testenv.Zipkin(t)
	statsd, page := testenv.Statsd(t)
	op := testenv.OAuth2(t)
	s := runDemo(t, options{auth: authURLs{issuer: op.Issuer, audience: op.Resource,
		gateway: op.ClientID + ":" + op.ClientSecret, limited: op.LimitedClientID + ":" + op.LimitedClientSecret,
	}, urls: urls{
		kv: "redis://" + redis + "/0", discovery: "consul://" + consul,
		event: "redis://" + redis + "/0", sync: "redis://" + redis + "/0",
		trace: "zipkin+" + spans, traceQuery: query,
		metrics: "statsd://" + statsd + "?tags=datadog", metricsQuery: page,
	}})
	check(t, s, append(facts(),
		`== backends: kv=redis discovery=consul event=redis sync=redis trace=zipkin\+http metrics=statsd auth=openid; names prefixed demo[0-9a-f]{6}-\n`,
		`"trace_id":"[0-9a-f]{32}".*"service":"greeter"`,
		// statsd tags have no spaces: the daemon has GET_/hello/{name}
		`gateway-1 GET_/hello/\{name\}\s+2xx 16`,
		`status running\n`,
	))
}

func runDemo(t *testing.T, o options) string {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, o); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	return out.String()
}

// facts are the walkthrough's claims, the same on every backend.
func facts() []string {
	return []string{
		// the trace has spans from the three services (Zipkin lowercases names)
		`(?mi)^\s+\+\S+\s+\S+\s+gateway\s+SERVER\s+GET /hello/\{name\}$`,
		`(?mi)^\s+\+\S+\s+\S+\s+greeter\s+SERVER\s+GET /greet/\{name\}$`,
		`(?mi)^\s+\+\S+\s+\S+\s+counter\s+SERVER\s+GET /count/\{name\}$`,
		`(?mi)^\s+\+\S+\s+\S+\s+gateway\s+CLIENT\s+GET /count/ada$`,
		// the counter counted, in kv, across both instances
		`visits:ada = 5\n`,
		// only the leader ran the job, and leadership was handed over
		`leader counter-1 \(token \d+\) ran the job 3 times; counter-2 ran it 0 times`,
		`counter-1 resigned: leader counter-2 \(token \d+\) ran the job 3 times`,
		// the config edit took effect
		`answer: Bonjour, ada!`,
		// the crashed instance was ejected and no request failed
		`10 requests: 0 failed\n  counter-1 ejected\n  counter-2 routable\n  the count went on: visits:ada = 16\n`,
		// the event was consumed: the consumer's record is in the same flow
		`read back by root id: greeting.sent → greeting.counted\n`,
		// the policy denied the call without the scope
		`calls counter-1 directly: 403 Forbidden\n`,
		// monitor
		`GET /monitor/health/ready → 200; status `,
	}
}

func check(t *testing.T, out string, facts []string) {
	t.Helper()
	for _, re := range facts {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("demo output lacks %s:\n%s", re, out)
		}
	}
}
