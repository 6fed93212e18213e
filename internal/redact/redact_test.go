package redact_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"google.golang.org/grpc/metadata"

	"github.com/microos/go-os/config"
	"github.com/microos/go-os/internal/redact"
	"github.com/microos/go-os/log"
)

// What a service actually logs and configures, each holding a secret: fed
// through the log (as a service would log it) and through config's
// redacted dump, the secret reaches neither.
var cases = []struct {
	name   string
	key    string
	value  any
	secret string
}{
	{"Authorization header", "headers", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}, "Accept": {"*/*"}}, "dXNlcjpwYXNz"},
	{"Proxy-Authorization header", "headers", http.Header{"Proxy-Authorization": {"Basic cHJveHk6cHc="}}, "cHJveHk6cHc="},
	{"Cookie header", "headers", http.Header{"Cookie": {"session=abc123cookie"}}, "abc123cookie"},
	{"Set-Cookie header", "headers", http.Header{"Set-Cookie": {"sid=setcookie42; HttpOnly"}}, "setcookie42"},
	{"gRPC metadata authorization", "md", metadata.Pairs("authorization", "Bearer grpctoken77"), "grpctoken77"},
	{"gRPC metadata cookie", "md", metadata.Pairs("cookie", "mdcookie99"), "mdcookie99"},
	{"https URL with password", "endpoint", "https://user:hunter2@api.example.com/v1", "hunter2"},
	{"redis URL with password only", "cache", "redis://:r3dispw@cache:6379/0", "r3dispw"},
	{"postgres DSN", "dsn", "postgres://app:pgsecretpw@db:5432/orders?sslmode=disable", "pgsecretpw"},
	{"mysql DSN without scheme", "db", "app:mysqlpw@tcp(db:3306)/app", "mysqlpw"},
	{"URL value", "upstream", mustURL("https://svc:urlpw@up.internal/"), "urlpw"},
	{"secret word in the middle of a key", "AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI", "wJalrXUtnFEMI"},
	{"secret word at the end", "db_password", "dbpw123", "dbpw123"},
	{"camelCase key", "githubToken", "ghp_abcdef", "ghp_abcdef"},
	{"header-style key", "X-Api-Key", "xapikey55", "xapikey55"},
	{"bearer token inside a string", "note", "called upstream with Bearer eyJhbGciOiJIUzI1NiJ9.tok", "eyJhbGciOiJIUzI1NiJ9.tok"},
	{"URL inside a sentence", "msg", "dialing redis://:inlinepw@cache:6379 failed", "inlinepw"},
	{"error naming a DSN", "err", errors.New("dial postgres://app:errpw99@db/x: refused"), "errpw99"},
	{"secret key with an int", "session_id", 987654321, "987654321"},
	{"short value with a bearer token", "auth_hdr", "Bearer s", "Bearer s"},
	{"escaped string with a URL", "note", "line\nredis://:escpw@h\t", "escpw"},
}

// valuer is a LogValuer that resolves to its key and value.
type valuer struct {
	key   string
	value any
}

func (v valuer) LogValue() slog.Value { return slog.GroupValue(slog.Any(v.key, v.value)) }

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

var logPaths = []struct {
	name string
	new  func(w *strings.Builder) (l *slog.Logger, done func())
}{
	{"json (fused)", func(w *strings.Builder) (*slog.Logger, func()) {
		l, err := log.New(log.WithOutput(log.WriterOutput(w)))
		if err != nil {
			panic(err)
		}
		return l.Logger, func() { l.Close() }
	}},
	{"text (RedactHandler)", func(w *strings.Builder) (*slog.Logger, func()) {
		l, err := log.New(log.WithOutput(log.WriterOutput(w)), log.WithFormat(log.Text))
		if err != nil {
			panic(err)
		}
		return l.Logger, func() { l.Close() }
	}},
	{"RedactHandler over slog.JSONHandler", func(w *strings.Builder) (*slog.Logger, func()) {
		return slog.New(log.NewRedactHandler(slog.NewJSONHandler(writerFunc(w.Write), nil))), func() {}
	}},
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestNoSecretReachesLogOrConfig(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The log, as a service logs it, through every path: the
			// Logger's JSON encoder (the rule fused in), its Text format
			// (RedactHandler) and RedactHandler in front of a handler
			// that is not go-os's.
			for _, p := range logPaths {
				var out strings.Builder
				l, done := p.new(&out)
				l.Info("request", tc.key, tc.value)
				l.InfoContext(context.Background(), "grouped", slog.Group("req", tc.key, tc.value))
				l.With(tc.key, tc.value).Info("with")
				l.WithGroup("g").With("k", 1).Info("in group", tc.key, tc.value)
				l.Info("valuer", "v", valuer{tc.key, tc.value})
				done()
				if strings.Contains(out.String(), tc.secret) {
					t.Errorf("log (%s): secret %q in %s", p.name, tc.secret, out.String())
				}
				if !strings.Contains(out.String(), "with") || strings.Count(out.String(), "\n") != 5 {
					t.Fatalf("log (%s) wrote not 5 lines: %s", p.name, out.String())
				}
			}

			// Config's redacted dump: the value as a config tree holds it.
			var v any = tc.value
			switch x := tc.value.(type) {
			case http.Header:
				v = headerTree(x)
			case metadata.MD:
				v = headerTree(x)
			case *url.URL:
				v = x.String()
			case error:
				v = x.Error()
			}
			c, err := config.New(context.Background(), []config.Source{config.NewMemory(map[string]any{"svc": map[string]any{tc.key: v}})})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			dump := c.Snapshot().String()
			if strings.Contains(dump, tc.secret) {
				t.Errorf("config: secret %q in %s", tc.secret, dump)
			}
			if !strings.Contains(dump, `"svc"`) {
				t.Fatalf("config dump lacks the tree: %s", dump)
			}
		})
	}
}

// headerTree is a header as a config tree holds it: a map of lists.
func headerTree[M ~map[string][]string](h M) map[string]any {
	out := map[string]any{}
	for k, vs := range h {
		l := make([]any, len(vs))
		for i, v := range vs {
			l[i] = v
		}
		out[k] = l
	}
	return out
}

// What is not a secret stays readable.
func TestKeepsWhatIsNotSecret(t *testing.T) {
	keys := redact.NewKeys()
	for _, k := range []string{"method", "route", "status", "user", "duration", "bytes"} {
		if keys.Secret(k) {
			t.Errorf("%q is not a secret", k)
		}
	}
	for _, s := range []string{"GET /orders/42", "redis://cache:6379/0", "ops@example.com", "https://user@host/"} {
		if got := redact.String(s); got != s {
			t.Errorf("String(%q) = %q, want it unchanged", s, got)
		}
	}
	h := http.Header{"Accept": {"*/*"}}
	if got := redact.Header(h, keys); fmt.Sprint(got) != fmt.Sprint(h) {
		t.Errorf("Header(%v) = %v", h, got)
	}
}

// The cost of the rule on a line without secrets: the keys and string
// values of a typical access line (the goal: under 20 ns).
func BenchmarkCleanLine(b *testing.B) {
	keys := redact.NewKeyCache(redact.NewKeys())
	attrs := []struct{ k, v string }{{"method", "GET"}, {"route", "GET /orders/{id}"}, {"path", "/orders/42"}, {"status", ""}}
	b.ReportAllocs()
	for b.Loop() {
		for _, a := range attrs {
			if keys.Secret(a.k) || redact.Needs(a.v) {
				b.Fatal("a clean line needs redaction")
			}
		}
	}
}
