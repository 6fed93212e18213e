package log_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/microos/go-os/log"
)

func newMemLogger(t *testing.T, opts ...log.Option) (*log.Logger, *log.Memory) {
	t.Helper()
	m := log.NewMemory()
	l, err := log.New(append([]log.Option{log.WithOutput(m)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, m
}

func entries(t *testing.T, m *log.Memory) []map[string]any {
	t.Helper()
	es, err := m.Entries()
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestContextFieldsStayTopLevel(t *testing.T) {
	l, m := newMemLogger(t, log.WithTraceIDs(fakeTraceIDs), log.WithService("api", "1.2.3", ""))
	ctx := context.WithValue(context.Background(), traceKey{}, [2]string{"t1", "s1"})
	ctx = log.WithRequestID(ctx, "r1")
	l.WithGroup("db").InfoContext(ctx, "query", "rows", 3)
	l.Info("no ctx")
	es := entries(t, m)
	if len(es) != 2 {
		t.Fatalf("want 2 lines, got %d", len(es))
	}
	e := es[0]
	if e["trace_id"] != "t1" || e["span_id"] != "s1" || e["request_id"] != "r1" || e["service"] != "api" || e["version"] != "1.2.3" {
		t.Errorf("top-level fields missing: %v", e)
	}
	if db, _ := e["db"].(map[string]any); db["rows"] != float64(3) || db["trace_id"] != nil {
		t.Errorf("group db = %v, want only rows", e["db"])
	}
	if _, ok := e["instance"]; ok {
		t.Errorf("empty instance logged: %v", e)
	}
	if _, ok := es[1]["trace_id"]; ok {
		t.Errorf("trace id without a span: %v", es[1])
	}
}

func TestContextHandlerForOtherHandlers(t *testing.T) {
	l, m := newMemLogger(t, log.WithFormat(log.Text), log.WithTraceIDs(fakeTraceIDs))
	ctx := context.WithValue(log.WithRequestID(context.Background(), "r1"), traceKey{}, [2]string{"t1", "s1"})
	l.InfoContext(ctx, "hello")
	got := string(m.Bytes())
	for _, want := range []string{"msg=hello", "request_id=r1", "trace_id=t1", "span_id=s1"} {
		if !strings.Contains(got, want) {
			t.Errorf("text line lacks %s: %s", want, got)
		}
	}
}

type credentials struct{ user, password string }

func (c credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", c.user), slog.String("password", c.password))
}

func TestRedaction(t *testing.T) {
	l, m := newMemLogger(t, log.WithRedact("X-Internal"))
	l.With("token", "t0k").Info("login",
		"Password", "hunter2",
		slog.Group("req", slog.String("authorization", "Bearer x"), slog.String("path", "/")),
		"creds", credentials{"ann", "pw"},
		"x-internal", "yes",
		"user", "ann")
	out := string(m.Bytes())
	for _, secret := range []string{"t0k", "hunter2", "Bearer x", `"pw"`, `"yes"`} {
		if strings.Contains(out, secret) {
			t.Errorf("secret %s reached the output: %s", secret, out)
		}
	}
	for _, kept := range []string{`"user":"ann"`, `"path":"/"`, `"creds":{"user":"ann","password":"[REDACTED]"}`, `"Password":"[REDACTED]"`} {
		if !strings.Contains(out, kept) {
			t.Errorf("output lacks %s: %s", kept, out)
		}
	}
}

// A key holding a secret word anywhere is a secret (the one go-os rule,
// shared with config's dump): AWS_SECRET_ACCESS_KEY as much as db_password.
// Keys that merely resemble one (password_hint, tokens_used) are masked
// too: the rule errs on the side of the secret.
func TestRedactionOfCompoundKeys(t *testing.T) {
	l, m := newMemLogger(t)
	l.Info("connect", "db_password", "s1", "GITHUB-TOKEN", "s2", "x.api_key", "s3",
		"AWS_SECRET_ACCESS_KEY", "s4", "password_hint", "s5", "tokens_used", "s6", "_", "kept3")
	out := string(m.Bytes())
	for _, secret := range []string{`"s1"`, `"s2"`, `"s3"`, `"s4"`, `"s5"`, `"s6"`} {
		if strings.Contains(out, secret) {
			t.Errorf("secret %s reached the output: %s", secret, out)
		}
	}
	if !strings.Contains(out, "kept3") {
		t.Errorf("output lacks kept3: %s", out)
	}
}

func TestWithoutRedaction(t *testing.T) {
	l, m := newMemLogger(t, log.WithoutRedaction())
	l.Info("x", "password", "p")
	if !strings.Contains(string(m.Bytes()), `"password":"p"`) {
		t.Fatalf("WithoutRedaction redacted: %s", m.Bytes())
	}
}

func TestSampler(t *testing.T) {
	var buf bytes.Buffer
	s, err := log.NewSampler(log.NewJSONHandler(&buf, nil), 3, 10, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	emit := func(at time.Time, msg string) {
		s.Handle(context.Background(), slog.NewRecord(at, slog.LevelInfo, msg, 0))
	}
	for i := range 100 {
		emit(t0.Add(time.Duration(i)*time.Millisecond), "hot")
	}
	emit(t0, "other")
	// 3 first, then 1 in 10 of the remaining 97: the 4th, 14th, ... 94th.
	if got, want := strings.Count(buf.String(), `"msg":"hot"`), 3+10; got != want {
		t.Errorf("in one window: %d lines of hot, want %d", got, want)
	}
	if !strings.Contains(buf.String(), `"msg":"other"`) {
		t.Error("another message shared the budget")
	}
	if got := s.Dropped(); got != 87 {
		t.Errorf("Dropped = %d, want 87", got)
	}
	buf.Reset()
	emit(t0.Add(2*time.Second), "hot")
	if !strings.Contains(buf.String(), `"msg":"hot"`) {
		t.Error("the count did not reset in a new window")
	}
	if _, err := log.NewSampler(s, -1, 0, 0); err == nil {
		t.Error("negative First accepted")
	}
}

func TestLoggerStatsCountSampled(t *testing.T) {
	l, m := newMemLogger(t, log.WithSampling(1, 0, time.Second))
	for range 5 {
		l.Info("same")
	}
	if n := len(m.Lines()); n != 1 {
		t.Fatalf("%d lines, want 1", n)
	}
	if st := l.Stats(); st.Dropped != 4 {
		t.Fatalf("Stats().Dropped = %d, want 4", st.Dropped)
	}
}

func TestSetLevelAtRuntime(t *testing.T) {
	l, m := newMemLogger(t, log.WithLevel(slog.LevelWarn))
	child := l.With("c", 1)
	child.Info("hidden")
	l.SetLevel(slog.LevelDebug)
	child.Debug("shown")
	if l.Level() != slog.LevelDebug {
		t.Fatalf("Level() = %v", l.Level())
	}
	if lines := m.Lines(); len(lines) != 1 || !strings.Contains(lines[0], `"msg":"shown"`) {
		t.Fatalf("lines = %q", lines)
	}
}

func TestFanoutWithoutAsync(t *testing.T) {
	a, b := log.NewMemory(), log.NewMemory()
	l, err := log.New(log.WithOutput(a, b))
	if err != nil {
		t.Fatal(err)
	}
	l.Info("both")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if len(a.Lines()) != 1 || len(b.Lines()) != 1 {
		t.Fatalf("a=%q b=%q", a.Lines(), b.Lines())
	}
	// The outputs were the caller's: still open, synced.
	if _, err := a.Write([]byte("{}\n")); err != nil || a.Syncs() == 0 {
		t.Fatalf("caller's output closed (%v) or not synced (%d)", err, a.Syncs())
	}
}

func TestBadOptions(t *testing.T) {
	for name, opt := range map[string]log.Option{
		"format":   log.WithFormat(log.Format(7)),
		"async":    log.WithAsync(log.BufferSize(-1)),
		"policy":   log.WithAsync(log.OnFull(log.Policy(9))),
		"sampling": log.WithSampling(0, -2, 0),
	} {
		if _, err := log.New(log.WithOutput(log.NewMemory()), opt); err == nil {
			t.Errorf("%s: bad option accepted", name)
		}
	}
}

// A bad option after an async queue leaves no goroutine (TestMain checks).
func TestBadSamplingWithAsyncLeavesNothing(t *testing.T) {
	if _, err := log.New(log.WithOutput(log.NewMemory()), log.WithAsync(), log.WithSampling(-1, 0, 0)); err == nil {
		t.Fatal("accepted")
	}
}

func TestRedactLongAndEmptyKeys(t *testing.T) {
	long := strings.Repeat("Secret", 12)
	l, m := newMemLogger(t, log.WithRedact(long, ""))
	l.Info("x", strings.ToLower(long), "s3cr3t", "", "empty key kept")
	out := string(m.Bytes())
	if strings.Contains(out, "s3cr3t") || !strings.Contains(out, "empty key kept") {
		t.Fatalf("output %s", out)
	}
}

type valueErr struct{ msg string }

func (e valueErr) Error() string { return e.msg }

// A typed nil with value-receiver methods (a common nil error) prints
// "<nil>" as slog's handler does, instead of panicking the log call.
func TestTypedNilDoesNotPanic(t *testing.T) {
	l, m := newMemLogger(t)
	var err *valueErr
	l.Error("failed", "err", err, "camel", "x", "accessToken", "AT1", "X-Api-Key", "XK1", "dbPassword", "PW1", "maxTokens", 5)
	out := string(m.Bytes())
	if !strings.Contains(out, `"err":"<nil>"`) {
		t.Errorf("typed nil error: %s", out)
	}
	for _, secret := range []string{"AT1", "XK1", "PW1"} {
		if strings.Contains(out, secret) {
			t.Errorf("camelCase or header-style secret %s reached the output: %s", secret, out)
		}
	}
	if !strings.Contains(out, `"camel":"x"`) {
		t.Errorf("camel was redacted: %s", out)
	}
}
