package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The demo is documentation: it must keep running on the memory defaults
// and show what it claims. Each assertion is on a line the walkthrough
// prints from the system's own state (the recorder, kv, the router's
// stats, the metrics snapshot), not on our own counters.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, options{}); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, re := range []string{
		// the trace has spans from the three services
		`(?m)^\s+\+\S+\s+\S+\s+gateway\s+SERVER\s+GET /hello/\{name\}$`,
		`(?m)^\s+\+\S+\s+\S+\s+greeter\s+SERVER\s+GET /greet/\{name\}$`,
		`(?m)^\s+\+\S+\s+\S+\s+counter\s+SERVER\s+GET /count/\{name\}$`,
		// the log line carries the trace id
		`"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736".*"service":"greeter"`,
		// the counter counted, in kv, across both instances
		`visits:ada = 5\n`,
		// only the leader ran the job, and leadership was handed over
		`leader counter-1 \(token \d+\) ran the job 3 times; counter-2 ran it 0 times`,
		`counter-1 resigned: leader counter-2 \(token \d+\) ran the job 3 times`,
		// the config edit took effect
		`answer: Bonjour, ada!`,
		// the crashed instance was ejected and no request failed
		`10 requests: 0 failed\n  counter-1 ejected\n  counter-2 routable`,
		// metrics per route
		`gateway-1 GET /hello/\{name\}\s+2xx 16`,
		// the event was consumed: the consumer's record is in the same flow
		`read back by root id: greeting.sent → greeting.counted\n`,
		// the policy denied the call without the scope
		`calls counter-1 directly: 403 Forbidden\n`,
		// monitor
		`GET /monitor/health/ready → 200; status running`,
	} {
		if !regexp.MustCompile(re).MatchString(s) {
			t.Errorf("demo output lacks %s:\n%s", re, s)
		}
	}
	if n := strings.Count(s, "\n"); n > 40 {
		t.Errorf("demo output is %d lines, more than one screen", n)
	}
}
