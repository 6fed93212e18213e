package log_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/microos/go-os/log"
	"github.com/microos/go-os/oserr"
)

func checkCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	t.Cleanup(cancel)
	return ctx
}

// A log file on a full disk (/dev/full: every write fails with ENOSPC)
// makes Check say unavailable; pointed at a disk with room and reopened,
// as after a SIGHUP, Check is nil again and the lines land in the file.
func TestCheckDiskFull(t *testing.T) {
	needDevFull(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	if err := os.Symlink("/dev/full", path); err != nil {
		t.Fatal(err)
	}
	f, err := log.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := log.New(log.WithOutput(f))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Check(checkCtx(t)); err != nil {
		t.Fatalf("Check before any line: %v", err)
	}
	l.Info("lost to a full disk")
	err = l.Check(checkCtx(t))
	if !errors.Is(err, log.ErrOutput) || oserr.Code(err) != oserr.Unavailable || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("Check with the disk full = %v (class %v), want ErrOutput, unavailable, naming ENOSPC", err, oserr.Code(err))
	}

	real := filepath.Join(dir, "real.log")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, path); err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(); err != nil {
		t.Fatalf("Reopen: %v", err)
	}
	l.Info("back on a disk with room")
	if err := l.Check(checkCtx(t)); err != nil {
		t.Fatalf("Check after the reopen: %v", err)
	}
	l.Close()
	got, err := os.ReadFile(real)
	if err != nil || !bytes.Contains(got, []byte("back on a disk with room")) {
		t.Fatalf("the file holds %q (%v), want the line written after the reopen", got, err)
	}
	if err := l.Check(checkCtx(t)); !errors.Is(err, log.ErrClosed) {
		t.Fatalf("Check after Close = %v, want ErrClosed", err)
	}
}

// A full queue under the Drop policy: Check says limited (ErrDropped).
func TestCheckDropped(t *testing.T) {
	block := make(chan struct{})
	l, err := log.New(log.WithOutput(log.WriterOutput(blockingWriter{block})),
		log.WithAsync(log.BufferSize(1), log.OnFull(log.Drop)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	defer close(block)
	for i := 0; l.Stats().Dropped == 0; i++ {
		l.Info("fill the queue")
		if i > 1000 {
			t.Fatal("nothing dropped with a blocked output and a 1-byte queue")
		}
	}
	if err := l.Check(checkCtx(t)); !errors.Is(err, log.ErrDropped) || oserr.Code(err) != oserr.Limited {
		t.Fatalf("Check with lines dropped = %v (class %v), want ErrDropped, limited", err, oserr.Code(err))
	}
}

type blockingWriter struct{ c chan struct{} }

func (w blockingWriter) Write(p []byte) (int, error) { <-w.c; return len(p), nil }

// A nil *Logger logs nothing and never panics.
func TestNilLogger(t *testing.T) {
	var l *log.Logger
	ctx := context.Background()
	l.Info("x", "k", 1)
	l.Debug("x")
	l.Warn("x")
	l.Error("x")
	l.InfoContext(ctx, "x")
	l.ErrorContext(ctx, "x")
	l.Log(ctx, 0, "x")
	l.LogAttrs(ctx, 0, "x")
	l.With("k", "v").Info("x")
	l.WithGroup("g").Info("x")
	l.SetLevel(0)
	if l.Enabled(ctx, 0) || l.Stats() != (log.Stats{}) || l.Outputs() != nil {
		t.Error("a nil Logger claims to log")
	}
	if l.Check(ctx) != nil || l.Flush(ctx) != nil || l.Reopen() != nil || l.Shutdown(ctx) != nil || l.Close() != nil {
		t.Error("a nil Logger returned an error")
	}
}

// The shadowing methods keep the caller's source position.
func TestSourceIsTheCaller(t *testing.T) {
	var out strings.Builder
	l, err := log.New(log.WithOutput(log.WriterOutput(&out)), log.WithSource())
	if err != nil {
		t.Fatal(err)
	}
	l.Info("here")
	l.LogAttrs(context.Background(), 0, "there")
	l.Close()
	if n := strings.Count(out.String(), "check_test.go"); n != 2 {
		t.Fatalf("source of %d lines is this file, want 2: %s", n, out.String())
	}
}

func TestDoubleShutdown(t *testing.T) {
	l, err := log.New(log.WithOutput(log.WriterOutput(&strings.Builder{})), log.WithAsync())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close after Shutdown: %v", err)
	}
}

// The trace ids go at the top level of a JSON record, even from a logger
// with a group open: log.WithTraceIDs is the one bridge.
func TestTraceIDsAtTopLevel(t *testing.T) {
	var out strings.Builder
	ids := log.TraceIDs(func(ctx context.Context) (string, string, bool) { return "t-1", "s-1", true })
	l, err := log.New(log.WithOutput(log.WriterOutput(&out)), log.WithTraceIDs(ids))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), groupKey{}, 1)
	l.WithGroup("req").InfoContext(ctx, "grouped", "k", "v")
	l.Close()
	if !strings.Contains(out.String(), `"trace_id":"t-1","span_id":"s-1","req":{"k":"v"}`) {
		t.Fatalf("trace ids not at the top level: %s", out.String())
	}
}

type groupKey struct{}
