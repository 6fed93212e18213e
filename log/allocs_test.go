package log_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/microos/go-os/log"
)

// "0-alloc JSON lines": a line of the common kinds, logged through the
// whole Logger (redaction on, the default), allocates nothing.
func TestJSONLineAllocatesNothing(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	l, err := log.New(log.WithOutput(log.WriterOutput(io.Discard)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		l.LogAttrs(ctx, slog.LevelInfo, "request served",
			slog.String("method", "GET"), slog.String("path", "/users/42"),
			slog.Int("status", 200), slog.Int64("bytes", 1234), slog.Bool("cached", true))
	})
	if allocs != 0 {
		t.Fatalf("a JSON line allocates %v times, want 0", allocs)
	}
}
