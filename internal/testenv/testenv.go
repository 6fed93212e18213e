// Package testenv finds the real backends that adapter tests run against.
//
// scripts/backends starts every backend on loopback and prints the TEST_*
// variables read here; scripts/test exports them and runs the suite. A test
// whose backend variable is unset is skipped with the command that would run
// it, except under CI=true, where it fails: CI must never go green by
// skipping.
package testenv

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const howTo = `eval "$(scripts/backends up)" and run the tests again, or run scripts/test`

// Redis returns the address of the standalone Redis server.
func Redis(t testing.TB) string { return lookup(t, "TEST_REDIS_ADDR") }

// RedisCluster returns the seed addresses of the Redis Cluster (3 masters, 3 replicas).
func RedisCluster(t testing.TB) []string { return list(lookup(t, "TEST_REDIS_CLUSTER_ADDRS")) }

// Memcached returns the addresses of the memcached servers (two of them).
func Memcached(t testing.TB) []string { return list(lookup(t, "TEST_MEMCACHED_ADDRS")) }

// Consul returns the HTTP address of the Consul dev agent.
func Consul(t testing.TB) string { return lookup(t, "TEST_CONSUL_ADDR") }

// ConsulBinary returns the consul program scripts/backends built, for
// tests that start (and kill) agents of their own.
func ConsulBinary(t testing.TB) string { return lookup(t, "TEST_CONSUL_BIN") }

// Zipkin returns the collector's span endpoint (POST /api/v2/spans) and the
// base URL of the query API that reads spans back.
func Zipkin(t testing.TB) (spansURL, queryURL string) {
	return lookup(t, "TEST_ZIPKIN_URL"), lookup(t, "TEST_ZIPKIN_QUERY_URL")
}

// Statsd returns the UDP address of statsd_exporter (DogStatsD and InfluxDB
// tags) and the URL of its /metrics page, where what it received is read back.
func Statsd(t testing.TB) (addr, metricsURL string) {
	return lookup(t, "TEST_STATSD_ADDR"), lookup(t, "TEST_STATSD_METRICS_URL")
}

// StatsdGraphite returns the UDP address of the Etsy statsd daemon (Graphite
// ;k=v tags) and its admin TCP address (commands counters, gauges, timers).
func StatsdGraphite(t testing.TB) (addr, adminAddr string) {
	return lookup(t, "TEST_STATSD_GRAPHITE_ADDR"), lookup(t, "TEST_STATSD_GRAPHITE_ADMIN_ADDR")
}

// OAuth2Server describes the OpenID provider started by scripts/backends.
type OAuth2Server struct {
	Issuer string
	// ClientID may use scopes read and write and every grant.
	ClientID, ClientSecret string
	// LimitedClientID may use scope read and client_credentials only.
	LimitedClientID, LimitedClientSecret string
	// Resource, sent as the resource parameter, makes the access token a JWT;
	// without it the token is opaque.
	Resource string
}

// OAuth2 returns the OpenID provider's issuer and clients.
func OAuth2(t testing.TB) OAuth2Server {
	return OAuth2Server{
		Issuer:              lookup(t, "TEST_OAUTH2_ISSUER"),
		ClientID:            lookup(t, "TEST_OAUTH2_CLIENT_ID"),
		ClientSecret:        lookup(t, "TEST_OAUTH2_CLIENT_SECRET"),
		LimitedClientID:     lookup(t, "TEST_OAUTH2_LIMITED_CLIENT_ID"),
		LimitedClientSecret: lookup(t, "TEST_OAUTH2_LIMITED_CLIENT_SECRET"),
		Resource:            lookup(t, "TEST_OAUTH2_RESOURCE"),
	}
}

// Binary returns the path of a server program a test starts itself (for
// example redis-server, to kill it mid-load).
func Binary(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		missing(t, name+" on PATH")
	}
	return path
}

// FreePort returns a loopback TCP address nothing listens on right now.
func FreePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: no free port: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// CI reports whether the tests run in CI, where a missing backend fails.
func CI() bool { return os.Getenv("CI") == "true" }

func lookup(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		missing(t, name)
	}
	return v
}

func missing(t testing.TB, what string) {
	t.Helper()
	if CI() {
		t.Fatalf("testenv: %s is not set, and under CI=true a missing backend fails the test: CI must run scripts/test", what)
	}
	t.Skipf("testenv: %s is not set; to run this test: %s", what, howTo)
}

func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// OTLP returns the base URL of the OTLP/HTTP receiver (POST /v1/traces)
// of the collector that Zipkin's query API reads back (Jaeger all-in-one).
func OTLP(t testing.TB) (httpURL string) { return lookup(t, "TEST_OTLP_HTTP_URL") }

// OTLPGRPC returns the host:port of the same collector's OTLP/gRPC
// receiver.
func OTLPGRPC(t testing.TB) (addr string) { return lookup(t, "TEST_OTLP_GRPC_ADDR") }

// Postgres returns the URL of the PostgreSQL server (database postgres,
// user postgres, no password), for database/sql tests.
func Postgres(t testing.TB) string { return lookup(t, "TEST_POSTGRES_URL") }

// Chromium returns the path of the headless Chromium that browser tests
// drive over the DevTools protocol.
func Chromium(t testing.TB) string {
	p := lookup(t, "TEST_CHROMIUM")
	if _, err := os.Stat(p); err != nil {
		missing(t, "chromium at "+p)
	}
	return p
}
