package log_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/microos/go-os/log"
)

// runSlogtest runs testing/slogtest on the handler wrap builds in front of
// a JSONHandler writing to a buffer.
func runSlogtest(t *testing.T, wrap func(t *testing.T, next slog.Handler) slog.Handler) {
	t.Helper()
	bufs := map[*testing.T]*bytes.Buffer{}
	slogtest.Run(t, func(t *testing.T) slog.Handler {
		buf := new(bytes.Buffer)
		bufs[t] = buf
		return wrap(t, log.NewJSONHandler(buf, nil))
	}, func(t *testing.T) map[string]any {
		return decodeOne(t, bufs[t].Bytes())
	})
}

func decodeOne(t *testing.T, b []byte) map[string]any {
	t.Helper()
	if bytes.Count(b, []byte{'\n'}) != 1 {
		t.Fatalf("want exactly one line, got %q", b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %v: %q", err, b)
	}
	return m
}

func TestJSONHandlerSlogtest(t *testing.T) {
	runSlogtest(t, func(_ *testing.T, h slog.Handler) slog.Handler { return h })
}

func TestContextHandlerSlogtest(t *testing.T) {
	runSlogtest(t, func(_ *testing.T, h slog.Handler) slog.Handler {
		return log.NewContextHandler(h, log.RequestIDContext)
	})
}

func TestRedactHandlerSlogtest(t *testing.T) {
	runSlogtest(t, func(_ *testing.T, h slog.Handler) slog.Handler {
		return log.NewRedactHandler(h, log.DefaultRedactKeys...)
	})
}

func TestSamplerSlogtest(t *testing.T) {
	runSlogtest(t, func(t *testing.T, h slog.Handler) slog.Handler {
		s, err := log.NewSampler(h, 100, 0, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// The whole chain New builds, async queue included, is a slog.Handler too.
func TestLoggerSlogtest(t *testing.T) {
	mems := map[*testing.T]*log.Logger{}
	slogtest.Run(t, func(t *testing.T) slog.Handler {
		l, err := log.New(log.WithOutput(log.NewMemory()), log.WithAsync(),
			log.WithSampling(100, 0, time.Second), log.WithTraceIDs(fakeTraceIDs))
		if err != nil {
			t.Fatal(err)
		}
		mems[t] = l
		return l.Handler()
	}, func(t *testing.T) map[string]any {
		l := mems[t]
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		return decodeOne(t, l.Outputs()[0].(*log.Memory).Bytes())
	})
}

type traceKey struct{}

// fakeTraceIDs stands in for the trace package's span in ctx.
func fakeTraceIDs(ctx context.Context) (string, string, bool) {
	ids, ok := ctx.Value(traceKey{}).([2]string)
	return ids[0], ids[1], ok
}

func TestJSONEncoding(t *testing.T) {
	var buf bytes.Buffer
	h := log.NewJSONHandler(&buf, &log.HandlerOptions{Level: slog.LevelDebug})
	ts := time.Date(2026, 11, 22, 1, 2, 3, 456789123, time.FixedZone("X", 3600))
	r := slog.NewRecord(ts, slog.LevelWarn+1, "quote\" back\\ nl\n tab\t ctl\x01 bad\xff ls\u2028 é", 0)
	r.AddAttrs(
		slog.Float64("nan", nanValue()), slog.Uint64("u", 18446744073709551615),
		slog.Duration("d", 1500*time.Millisecond), slog.Time("t", ts),
		slog.Any("err", errTest), slog.Any("nil", nil), slog.Any("list", []int{1, 2}),
		slog.Group("g", slog.Group("empty"), slog.Int("n", 1)), slog.Group("", slog.Bool("inline", true)),
	)
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2026-11-22T00:02:03.456789Z","level":"WARN+1","msg":"quote\" back\\ nl\n tab\t ctl\u0001 bad\ufffd ls\u2028 é",` +
		`"nan":"NaN","u":18446744073709551615,"d":1500000000,"t":"2026-11-22T00:02:03.456789123Z","err":"boom","nil":null,"list":[1,2],` +
		`"g":{"n":1},"inline":true}` + "\n"
	if got := buf.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if !json.Valid(buf.Bytes()) {
		t.Fatal("line is not valid JSON")
	}
}

func TestJSONHandlerWithAttrsAndGroups(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(log.NewJSONHandler(&buf, nil))
	l.With("a", 1).WithGroup("g").With("b", 2).WithGroup("h").Info("m", "c", 3)
	l.WithGroup("empty").Info("m2")
	got := buf.String()
	for _, want := range []string{`"msg":"m","a":1,"g":{"b":2,"h":{"c":3}}}`, `"msg":"m2"}`} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %s:\n%s", want, got)
		}
	}
}
