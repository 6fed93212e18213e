package log_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/microos/go-os/log"
)

func logFive(l *slog.Logger) {
	l.LogAttrs(context.Background(), slog.LevelInfo, "request served",
		slog.String("method", "GET"), slog.String("path", "/users/42"),
		slog.Int("status", 200), slog.Int64("bytes", 1234), slog.Bool("cached", true))
}

// BenchmarkJSONHandler: one line with five attributes through slog.Logger
// and our JSONHandler to a discarding writer.
func BenchmarkJSONHandler(b *testing.B) {
	l := slog.New(log.NewJSONHandler(io.Discard, nil))
	b.ReportAllocs()
	for b.Loop() {
		logFive(l)
	}
}

// BenchmarkJSONHandlerHandle is the handler alone, without slog.Logger's
// caller lookup and clock read.
func BenchmarkJSONHandlerHandle(b *testing.B) {
	h := log.NewJSONHandler(io.Discard, nil)
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "request served", 0)
	r.AddAttrs(slog.String("method", "GET"), slog.String("path", "/users/42"),
		slog.Int("status", 200), slog.Int64("bytes", 1234), slog.Bool("cached", true))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		h.Handle(ctx, r)
	}
}

// BenchmarkLogger is the full chain New builds (context fields, redaction)
// with the service fields, writing synchronously.
func BenchmarkLogger(b *testing.B) {
	l, err := log.New(log.WithOutput(log.WriterOutput(io.Discard)), log.WithService("api", "1.0", "i-1"))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.ReportAllocs()
	for b.Loop() {
		logFive(l.Logger)
	}
}

func BenchmarkDisabled(b *testing.B) {
	l, err := log.New(log.WithOutput(log.WriterOutput(io.Discard)), log.WithLevel(slog.LevelWarn))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.ReportAllocs()
	for b.Loop() {
		l.Info("request served", "method", "GET", "path", "/users/42", "status", 200, "bytes", 1234, "cached", true)
	}
}

func BenchmarkSampled(b *testing.B) {
	l, err := log.New(log.WithOutput(log.WriterOutput(io.Discard)), log.WithSampling(10, 1000, time.Second))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.ReportAllocs()
	for b.Loop() {
		logFive(l.Logger)
	}
}

// BenchmarkAsyncFile measures what the caller pays to log through the
// async queue to a real file; lines/s is the rate of the whole run,
// Close's flush included.
func BenchmarkAsyncFile(b *testing.B) {
	f, err := log.OpenFile(filepath.Join(b.TempDir(), "bench.log"))
	if err != nil {
		b.Fatal(err)
	}
	l, err := log.New(log.WithOutput(f), log.WithAsync())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		logFive(l.Logger)
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lines/s")
}

// BenchmarkLoggerContext adds the request id and trace ids from ctx.
func BenchmarkLoggerContext(b *testing.B) {
	l, err := log.New(log.WithOutput(log.WriterOutput(io.Discard)), log.WithService("api", "1.0", "i-1"), log.WithTraceIDs(fakeTraceIDs))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := log.WithRequestID(context.WithValue(context.Background(), traceKey{}, [2]string{"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"}), "req-1")
	b.ReportAllocs()
	for b.Loop() {
		l.LogAttrs(ctx, slog.LevelInfo, "request served",
			slog.String("method", "GET"), slog.String("path", "/users/42"),
			slog.Int("status", 200), slog.Int64("bytes", 1234), slog.Bool("cached", true))
	}
}

// BenchmarkFileSync writes each line straight to a file: one write(2) per
// line on the caller's goroutine.
func BenchmarkFileSync(b *testing.B) {
	f, err := log.OpenFile(filepath.Join(b.TempDir(), "bench.log"), log.MaxSize(1<<30))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	l := slog.New(log.NewJSONHandler(f, nil))
	b.ReportAllocs()
	for b.Loop() {
		logFive(l)
	}
}

// BenchmarkRedacted logs a line with a secret in it, which the
// RedactHandler rebuilds.
func BenchmarkRedacted(b *testing.B) {
	l, err := log.New(log.WithOutput(log.WriterOutput(io.Discard)))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.ReportAllocs()
	for b.Loop() {
		l.LogAttrs(context.Background(), slog.LevelInfo, "login",
			slog.String("user", "ann"), slog.String("password", "hunter2"), slog.Int("attempt", 1))
	}
}

// BenchmarkRedactionCost is what the one redaction rule costs on an access
// line without secrets: the same line through a Logger without redaction
// (plain) and one with it (redacted, the default: the rule applied inside
// the JSON encoder). Both write the same bytes to the same writer, in
// alternating batches of the same run, and the benchmark reports the
// median over the rounds of the difference per line as redact-ns/line
// (the goal: < 20 ns), next to each side's median. One op is one line of
// each.
func BenchmarkRedactionCost(b *testing.B) {
	newLogger := func(opts ...log.Option) *log.Logger {
		l, err := log.New(append([]log.Option{log.WithOutput(log.WriterOutput(io.Discard))}, opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { l.Close() })
		return l
	}
	plain, redacted := newLogger(log.WithoutRedaction()), newLogger()
	ctx := context.Background()
	line := func(l *log.Logger, n int) time.Duration {
		start := time.Now()
		for range n {
			l.LogAttrs(ctx, slog.LevelInfo, "request",
				slog.String("method", "GET"), slog.String("route", "GET /orders/{id}"),
				slog.String("path", "/orders/42"), slog.Int("status", 200))
		}
		return time.Since(start)
	}
	const batch = 64
	var diffs, plains, reds []float64
	b.ReportAllocs()
	b.ResetTimer()
	for done, round := 0, 0; done < b.N; done, round = done+batch, round+1 {
		n := min(batch, b.N-done)
		var p, r time.Duration
		if round%2 == 0 { // each side goes first in half the rounds
			p, r = line(plain, n), line(redacted, n)
		} else {
			r, p = line(redacted, n), line(plain, n)
		}
		pl, rl := float64(p)/float64(n), float64(r)/float64(n)
		diffs, plains, reds = append(diffs, rl-pl), append(plains, pl), append(reds, rl)
	}
	b.StopTimer()
	b.ReportMetric(median(plains), "plain-ns/line")
	b.ReportMetric(median(reds), "redacted-ns/line")
	b.ReportMetric(median(diffs), "redact-ns/line")
}

func median(xs []float64) float64 {
	slices.Sort(xs)
	if len(xs) == 0 {
		return 0
	}
	return xs[len(xs)/2]
}
