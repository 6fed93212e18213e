// Package logbench compares the log package with slog's JSONHandler, zap
// and zerolog writing the same line to the same writer (io.Discard, so
// that only the logging is measured).
package logbench

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/microos/go-os/bench/internal/compare"
	oslog "github.com/microos/go-os/log"
)

var ctx = context.Background()

// The line every case writes: a message and five attributes.
func slogFive(l *slog.Logger) {
	l.LogAttrs(ctx, slog.LevelInfo, "request served",
		slog.String("method", "GET"), slog.String("path", "/users/42"),
		slog.Int("status", 200), slog.Int64("bytes", 1234), slog.Bool("cached", true))
}

func zapFive(l *zap.Logger) {
	l.Info("request served",
		zap.String("method", "GET"), zap.String("path", "/users/42"),
		zap.Int("status", 200), zap.Int64("bytes", 1234), zap.Bool("cached", true))
}

func zerologFive(l *zerolog.Logger) {
	l.Info().Str("method", "GET").Str("path", "/users/42").
		Int("status", 200).Int64("bytes", 1234).Bool("cached", true).Msg("request served")
}

func newZap(level zapcore.Level) *zap.Logger {
	cfg := zap.NewProductionEncoderConfig()
	cfg.EncodeTime = zapcore.ISO8601TimeEncoder // a date, like ours and slog's
	core := zapcore.NewCore(zapcore.NewJSONEncoder(cfg), zapcore.Lock(zapcore.AddSync(io.Discard)), level)
	return zap.New(core)
}

func newZerolog(level zerolog.Level) zerolog.Logger {
	zerolog.TimeFieldFormat = "2006-01-02T15:04:05.000000Z07:00"
	return zerolog.New(io.Discard).Level(level).With().Timestamp().Logger()
}

func loop(b *testing.B, f func()) {
	b.ReportAllocs()
	for b.Loop() {
		f()
	}
}

func record() slog.Record {
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "request served", 0)
	r.AddAttrs(slog.String("method", "GET"), slog.String("path", "/users/42"),
		slog.Int("status", 200), slog.Int64("bytes", 1234), slog.Bool("cached", true))
	return r
}

func TestCompare(t *testing.T) {
	ours := slog.New(oslog.NewJSONHandler(io.Discard, nil))
	slogJSON := slog.New(slog.NewJSONHandler(io.Discard, nil))
	zl := newZap(zapcore.InfoLevel)
	zr := newZerolog(zerolog.InfoLevel)
	oursOff := slog.New(oslog.NewJSONHandler(io.Discard, &oslog.HandlerOptions{Level: slog.LevelWarn}))
	slogOff := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	zapOff := newZap(zapcore.WarnLevel)
	zrOff := newZerolog(zerolog.WarnLevel)
	oursH, slogH := oslog.NewJSONHandler(io.Discard, nil), slog.NewJSONHandler(io.Discard, nil)
	r := record()

	full, err := oslog.New(oslog.WithOutput(oslog.WriterOutput(io.Discard)), oslog.WithService("api", "1.0.0", "api-0"))
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	slogFull := slog.New(slog.NewJSONHandler(io.Discard, nil)).With("service", "api", "version", "1.0.0", "instance", "api-0")

	compare.Run(t,
		compare.Case{Name: "log/json_5attrs_vs_slog_json",
			Ours: func(b *testing.B) { loop(b, func() { slogFive(ours) }) },
			Peer: func(b *testing.B) { loop(b, func() { slogFive(slogJSON) }) }},
		compare.Case{Name: "log/json_5attrs_handle_vs_slog_json_handle",
			Ours: func(b *testing.B) { loop(b, func() { oursH.Handle(ctx, r) }) },
			Peer: func(b *testing.B) { loop(b, func() { slogH.Handle(ctx, r) }) }},
		compare.Case{Name: "log/json_5attrs_vs_zap",
			Ours: func(b *testing.B) { loop(b, func() { slogFive(ours) }) },
			Peer: func(b *testing.B) { loop(b, func() { zapFive(zl) }) }},
		compare.Case{Name: "log/json_5attrs_vs_zerolog",
			Ours: func(b *testing.B) { loop(b, func() { slogFive(ours) }) },
			Peer: func(b *testing.B) { loop(b, func() { zerologFive(&zr) }) }},
		compare.Case{Name: "log/logger_chain_vs_slog_json_with_service",
			Ours: func(b *testing.B) { loop(b, func() { slogFive(full.Logger) }) },
			Peer: func(b *testing.B) { loop(b, func() { slogFive(slogFull) }) }},
		compare.Case{Name: "log/disabled_vs_slog_json",
			Ours: func(b *testing.B) {
				loop(b, func() { oursOff.Info("request served", "method", "GET", "path", "/users/42", "status", 200) })
			},
			Peer: func(b *testing.B) {
				loop(b, func() { slogOff.Info("request served", "method", "GET", "path", "/users/42", "status", 200) })
			}},
		compare.Case{Name: "log/disabled_vs_zap",
			Ours: func(b *testing.B) { loop(b, func() { slogFive(oursOff) }) },
			Peer: func(b *testing.B) { loop(b, func() { zapFive(zapOff) }) }},
		compare.Case{Name: "log/disabled_vs_zerolog",
			Ours: func(b *testing.B) { loop(b, func() { slogFive(oursOff) }) },
			Peer: func(b *testing.B) { loop(b, func() { zerologFive(&zrOff) }) }},
	)
}

// noop is a handler that does nothing: logging through it measures what
// slog.Logger itself costs (the caller's pc, the clock, the record), the
// floor under every handler in the slog_json cases.
type noop struct{}

func (noop) Enabled(context.Context, slog.Level) bool  { return true }
func (noop) Handle(context.Context, slog.Record) error { return nil }
func (n noop) WithAttrs([]slog.Attr) slog.Handler      { return n }
func (n noop) WithGroup(string) slog.Handler           { return n }

func TestSlogFrontEndFloor(t *testing.T) {
	l := slog.New(noop{})
	r := testing.Benchmark(func(b *testing.B) { loop(b, func() { slogFive(l) }) })
	t.Logf("slog.Logger with a no-op handler: %.1f ns/op, %d allocs/op (paid by every slog handler)",
		float64(r.T.Nanoseconds())/float64(r.N), r.AllocsPerOp())
}

// TestAsyncFileThroughput logs through the async queue to a real file and
// prints the rate, Close's flush and fsync included.
func TestAsyncFileThroughput(t *testing.T) {
	const n = 200_000
	for _, policy := range []oslog.Policy{oslog.Block, oslog.Drop} {
		path := filepath.Join(t.TempDir(), "throughput.log")
		l, err := oslog.Open(ctx, "file://"+path+"?async=true&policy="+policy.String())
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for range n {
			slogFive(l.Logger)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		st := l.Stats()
		fi, _ := os.Stat(path)
		t.Logf("async %s to a file: %d lines in %s = %.0f lines/s, written %d, dropped %d, %d bytes",
			policy, n, took.Round(time.Millisecond), float64(n)/took.Seconds(), st.Written, st.Dropped, fi.Size())
		if policy == oslog.Block && st.Written != n {
			t.Fatalf("block policy wrote %d of %d lines", st.Written, n)
		}
	}
}
