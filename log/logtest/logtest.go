// Package logtest is the conformance suite every log.Output runs: the
// memory output, files, the async queue, and every adapter, each against
// its real destination. The suite is the specification of an Output.
package logtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/slogtest"

	"github.com/microos/go-os/log"
)

// NewOutput returns a fresh Output and a function that reads back, once
// the Output is closed, everything that reached its destination (the
// file's contents, what the server stored). The suite closes the Output.
type NewOutput func(t *testing.T) (out log.Output, readBack func(t *testing.T) []byte)

// Run runs the suite against the outputs newOutput makes.
func Run(t *testing.T, newOutput NewOutput) {
	t.Run("LinesInOrder", func(t *testing.T) { testLinesInOrder(t, newOutput) })
	t.Run("BatchOfLines", func(t *testing.T) { testBatch(t, newOutput) })
	t.Run("ConcurrentWritersDoNotInterleave", func(t *testing.T) { testConcurrent(t, newOutput) })
	t.Run("CloseIsIdempotentAndFinal", func(t *testing.T) { testClose(t, newOutput) })
	t.Run("Sync", func(t *testing.T) { testSync(t, newOutput) })
	t.Run("Slogtest", func(t *testing.T) { testSlogtest(t, newOutput) })
}

func closeAndRead(t *testing.T, out log.Output, readBack func(*testing.T) []byte) []byte {
	t.Helper()
	if err := out.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return readBack(t)
}

func lines(b []byte) []string {
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func testLinesInOrder(t *testing.T, newOutput NewOutput) {
	out, readBack := newOutput(t)
	var want []string
	for i := range 100 {
		line := fmt.Sprintf(`{"msg":"line %d","n":%d}`, i, i)
		want = append(want, line)
		if n, err := out.Write([]byte(line + "\n")); err != nil || n != len(line)+1 {
			t.Fatalf("Write(line %d) = %d, %v; want %d, nil", i, n, err, len(line)+1)
		}
	}
	got := lines(closeAndRead(t, out, readBack))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("read back %d lines, want the %d written in order; first got %q", len(got), len(want), first(got))
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func testBatch(t *testing.T, newOutput NewOutput) {
	out, readBack := newOutput(t)
	batch := []byte("{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n")
	if _, err := out.Write(batch); err != nil {
		t.Fatalf("Write(batch): %v", err)
	}
	if got := closeAndRead(t, out, readBack); !bytes.Equal(got, batch) {
		t.Fatalf("read back %q, want %q", got, batch)
	}
}

func testConcurrent(t *testing.T, newOutput NewOutput) {
	out, readBack := newOutput(t)
	const writers, each = 8, 200
	// Long lines make interleaving likely if an Output splits writes.
	pad := strings.Repeat("x", 3000)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				line := fmt.Sprintf(`{"w":%d,"i":%d,"pad":%q}`+"\n", w, i, pad)
				if _, err := out.Write([]byte(line)); err != nil {
					t.Errorf("writer %d: Write: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	seen := map[[2]int]bool{}
	last := make([]int, writers)
	for i := range last {
		last[i] = -1
	}
	sc := bufio.NewScanner(bytes.NewReader(closeAndRead(t, out, readBack)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e struct{ W, I int }
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("a line is not whole (writes interleaved?): %v: %.80q", err, sc.Bytes())
		}
		if seen[[2]int{e.W, e.I}] {
			t.Fatalf("line w=%d i=%d written twice", e.W, e.I)
		}
		if e.I <= last[e.W] {
			t.Fatalf("writer %d: line %d after line %d: one writer's lines out of order", e.W, e.I, last[e.W])
		}
		seen[[2]int{e.W, e.I}], last[e.W] = true, e.I
	}
	if len(seen) != writers*each {
		t.Fatalf("read back %d lines, want %d", len(seen), writers*each)
	}
}

func testClose(t *testing.T, newOutput NewOutput) {
	out, readBack := newOutput(t)
	if _, err := out.Write([]byte("{\"before\":true}\n")); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := out.Close(); err != nil {
		t.Fatalf("second Close: %v, want nil (Close is idempotent)", err)
	}
	if _, err := out.Write([]byte("{\"after\":true}\n")); !errors.Is(err, log.ErrClosed) {
		t.Fatalf("Write after Close = %v, want log.ErrClosed", err)
	}
	if got := readBack(t); string(got) != "{\"before\":true}\n" {
		t.Fatalf("read back %q, want only the line written before Close", got)
	}
}

func testSync(t *testing.T, newOutput NewOutput) {
	out, readBack := newOutput(t)
	s, ok := out.(log.Syncer)
	if !ok { // nothing to check: every Write is as durable as it gets
		closeAndRead(t, out, readBack)
		return
	}
	if _, err := out.Write([]byte("{\"synced\":true}\n")); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if got := closeAndRead(t, out, readBack); string(got) != "{\"synced\":true}\n" {
		t.Fatalf("read back %q", got)
	}
}

// testSlogtest runs testing/slogtest on a JSONHandler writing to the
// output: what reaches the destination must decode to what was logged.
func testSlogtest(t *testing.T, newOutput NewOutput) {
	type state struct {
		out      log.Output
		readBack func(*testing.T) []byte
	}
	var mu sync.Mutex
	states := map[*testing.T]state{}
	slogtest.Run(t, func(t *testing.T) slog.Handler {
		out, readBack := newOutput(t)
		mu.Lock()
		states[t] = state{out, readBack}
		mu.Unlock()
		return log.NewJSONHandler(out, nil)
	}, func(t *testing.T) map[string]any {
		mu.Lock()
		s := states[t]
		mu.Unlock()
		got := lines(closeAndRead(t, s.out, s.readBack))
		if len(got) != 1 {
			t.Fatalf("read back %d lines, want 1: %q", len(got), got)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(got[0]), &m); err != nil {
			t.Fatalf("not a JSON line: %v: %q", err, got[0])
		}
		return m
	})
}
