package log_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microos/go-os/log"
)

// stuckOutput blocks every Write until release is closed, as a hung disk
// or network would.
type stuckOutput struct {
	*log.Memory
	entered chan struct{} // receives once per Write that started
	release chan struct{}
}

func newStuck() *stuckOutput {
	return &stuckOutput{Memory: log.NewMemory(), entered: make(chan struct{}, 1000), release: make(chan struct{})}
}

func (s *stuckOutput) Write(p []byte) (int, error) {
	s.entered <- struct{}{}
	<-s.release
	return s.Memory.Write(p)
}

// failingOutput fails while failing is set, like a full disk.
type failingOutput struct {
	*log.Memory
	failing atomic.Bool
}

var errDiskFull = errors.New("no space left on device")

func (f *failingOutput) Write(p []byte) (int, error) {
	if f.failing.Load() {
		return 0, errDiskFull
	}
	return f.Memory.Write(p)
}

func TestAsyncDropPolicyNeverBlocks(t *testing.T) {
	out := newStuck()
	a, err := log.NewAsync([]log.Output{out}, log.BufferSize(100), log.OnFull(log.Drop))
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(`{"msg":"0123456789012345678901234567890123456789"}` + "\n") // 51 bytes
	if _, err := a.Write(line); err != nil {
		t.Fatal(err)
	}
	<-out.entered // the writer holds the first line, stuck
	var dropped int
	for range 10 {
		if _, err := a.Write(line); errors.Is(err, log.ErrDropped) {
			dropped++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	// The buffer holds one more line (100 bytes); the other nine drop.
	if dropped != 9 || a.Stats().Dropped != 9 {
		t.Fatalf("dropped %d (Stats %d), want 9", dropped, a.Stats().Dropped)
	}
	close(out.release)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(out.Lines()); n != 2 {
		t.Fatalf("%d lines written, want the 2 queued", n)
	}
	if st := a.Stats(); st.Written != 2 {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestAsyncBlockPolicyWaitsAtMostBlockFor(t *testing.T) {
	out := newStuck()
	a, err := log.NewAsync([]log.Output{out}, log.BufferSize(60), log.OnFull(log.Block), log.BlockAtMost(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(`{"msg":"0123456789012345678901234567890123456789"}` + "\n")
	a.Write(line)
	<-out.entered
	a.Write(line) // fills the buffer
	start := time.Now()
	_, err = a.Write(line)
	if !errors.Is(err, log.ErrDropped) {
		t.Fatalf("third write: %v, want ErrDropped after BlockFor", err)
	}
	if took := time.Since(start); took < 20*time.Millisecond || took > 2*time.Second {
		t.Fatalf("blocked %s, want about BlockFor (20ms)", took)
	}
	close(out.release)
	a.Close()
}

func TestAsyncBlockPolicyLosesNothing(t *testing.T) {
	out := newStuck()
	a, err := log.NewAsync([]log.Output{out}, log.BufferSize(60), log.OnFull(log.Block))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for i := range 50 {
			if _, err := fmt.Fprintf(a, `{"n":%d}`+"\n", i); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	<-out.entered // the writer is stuck; the producer fills the buffer and waits
	select {
	case err := <-done:
		t.Fatalf("the producer finished while the output was stuck: %v", err)
	default:
	}
	close(out.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	a.Close()
	lines := out.Lines()
	if len(lines) != 50 || lines[49] != `{"n":49}` {
		t.Fatalf("%d lines, last %q; want 50 in order", len(lines), lines[len(lines)-1])
	}
}

// A failing output is counted and does not stop the other outputs; once
// it recovers, it receives the lines queued after.
func TestAsyncFailingOutputIsCountedAndRecovers(t *testing.T) {
	bad := &failingOutput{Memory: log.NewMemory()}
	good := log.NewMemory()
	bad.failing.Store(true)
	a, err := log.NewAsync([]log.Output{bad, good})
	if err != nil {
		t.Fatal(err)
	}
	a.Write([]byte("{\"n\":1}\n"))
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := a.Stats()
	if st.Errors != 1 || !errors.Is(st.LastError, errDiskFull) || !errors.Is(st.LastError, log.ErrOutput) {
		t.Fatalf("Stats = %+v, want one ErrOutput wrapping the disk error", st)
	}
	bad.failing.Store(false)
	a.Write([]byte("{\"n\":2}\n"))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got := bad.Lines(); len(got) != 1 || got[0] != `{"n":2}` {
		t.Errorf("recovered output has %q, want the line after recovery", got)
	}
	if got := good.Lines(); len(got) != 2 {
		t.Errorf("healthy output has %q, want both lines", got)
	}
}

func TestAsyncCloseFlushesSyncsAndIsFinal(t *testing.T) {
	m := log.NewMemory()
	a, err := log.NewAsync([]log.Output{m})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		fmt.Fprintf(a, `{"n":%d}`+"\n", i)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(m.Lines()); n != 1000 || m.Syncs() == 0 {
		t.Fatalf("after Close: %d lines, %d syncs; want 1000 and a sync", n, m.Syncs())
	}
	if _, err := a.Write([]byte("{}\n")); !errors.Is(err, log.ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
	if err := a.Flush(context.Background()); !errors.Is(err, log.ErrClosed) {
		t.Fatalf("Flush after Close: %v", err)
	}
}

func TestAsyncShutdownHonoursDeadline(t *testing.T) {
	out := newStuck()
	a, err := log.NewAsync([]log.Output{out})
	if err != nil {
		t.Fatal(err)
	}
	a.Write([]byte("{}\n"))
	<-out.entered
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := a.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a stuck output: %v, want the deadline", err)
	}
	close(out.release) // the writer finishes; Close then returns
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(out.Lines()); n != 1 {
		t.Fatalf("%d lines", n)
	}
}

func TestAsyncConcurrentWritersAndFlush(t *testing.T) {
	m := log.NewMemory()
	a, err := log.NewAsync([]log.Output{m}, log.BufferSize(4096))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 500 {
				fmt.Fprintf(a, `{"w":%d,"i":%d}`+"\n", w, i)
				if i%100 == 0 {
					a.Flush(context.Background())
				}
			}
		})
	}
	wg.Wait()
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(m.Lines()); n != 2000 {
		t.Fatalf("%d lines after Flush, want 2000", n)
	}
	a.Close()
}

// A crash right after Close returned loses nothing: the child process logs
// through the async queue to a file, closes the logger and dies without
// any cleanup; every line is in the file.
func TestCrashAfterCloseLosesNothing(t *testing.T) {
	if path := os.Getenv("GOOS_LOG_CRASH_CHILD"); path != "" {
		crashChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "app.log")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashAfterCloseLosesNothing$")
	cmd.Env = append(os.Environ(), "GOOS_LOG_CRASH_CHILD="+path)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("child: %v, want exit code 3 (the simulated crash); output:\n%s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != crashLines {
		t.Fatalf("%d lines in the file after the crash, want %d", len(lines), crashLines)
	}
	for i, l := range lines {
		if !strings.Contains(l, fmt.Sprintf(`"n":%d}`, i)) {
			t.Fatalf("line %d is %q", i, l)
		}
	}
}

const crashLines = 20000

func crashChild(path string) {
	l, err := log.Open(context.Background(), "file://"+path+"?async=true&policy=block&buffer=64KiB")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for i := range crashLines {
		l.Info("line", "n", i)
	}
	if err := l.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(3) // no deferred functions, no flushing: a crash
}

// Without a queue, a failing output is counted in the Logger's Stats (slog
// discards the handler's error) and the next lines go through once it
// recovers.
func TestLoggerCountsSyncOutputErrors(t *testing.T) {
	bad := &failingOutput{Memory: log.NewMemory()}
	bad.failing.Store(true)
	l, err := log.New(log.WithOutput(bad))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Info("lost")
	l.Info("lost too")
	bad.failing.Store(false)
	l.Info("kept")
	st := l.Stats()
	if st.Errors != 2 || st.Written != 1 || !errors.Is(st.LastError, errDiskFull) {
		t.Fatalf("Stats = %+v, want 2 errors and 1 written", st)
	}
	if lines := bad.Lines(); len(lines) != 1 || !strings.Contains(lines[0], "kept") {
		t.Fatalf("lines %q", lines)
	}
}
