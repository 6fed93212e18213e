package redislog_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/log"
	"github.com/microos/go-os/log/logtest"
	"github.com/microos/go-os/log/redislog"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func streamName(t *testing.T) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "goos:logtest:" + hex.EncodeToString(b)
}

// readStream returns the stream's lines as the file output would hold them.
func readStream(t *testing.T, addr, stream string) []byte {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	msgs, err := c.XRange(context.Background(), stream, "-", "+").Result()
	if err != nil {
		t.Fatalf("XRANGE %s: %v", stream, err)
	}
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(m.Values[redislog.Field].(string))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

func cleanup(t *testing.T, addr, stream string) {
	t.Cleanup(func() {
		c := redis.NewClient(&redis.Options{Addr: addr})
		c.Del(context.Background(), stream)
		c.Close()
	})
}

// The suite runs against the real Redis: what it reads back is what the
// server stored.
func TestConformance(t *testing.T) {
	addr := testenv.Redis(t)
	logtest.Run(t, func(t *testing.T) (log.Output, func(*testing.T) []byte) {
		stream := streamName(t)
		cleanup(t, addr, stream)
		l, err := log.Open(context.Background(), "redis://"+addr+"/0?async=false&stream="+stream) // the output itself, unqueued
		if err != nil {
			t.Fatal(err)
		}
		out := l.Outputs()[0]
		return out, func(t *testing.T) []byte { return readStream(t, addr, stream) }
	})
}

func TestConformanceBehindAsync(t *testing.T) {
	addr := testenv.Redis(t)
	logtest.Run(t, func(t *testing.T) (log.Output, func(*testing.T) []byte) {
		stream := streamName(t)
		cleanup(t, addr, stream)
		c := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() { c.Close() })
		out, err := redislog.New(c, stream, redislog.Options{})
		if err != nil {
			t.Fatal(err)
		}
		a, err := log.NewAsync([]log.Output{out})
		if err != nil {
			t.Fatal(err)
		}
		return a, func(t *testing.T) []byte { return readStream(t, addr, stream) }
	})
}

func TestOpenLoggerToStream(t *testing.T) {
	addr := testenv.Redis(t)
	stream := streamName(t)
	cleanup(t, addr, stream)
	l, err := log.Open(context.Background(), "redis://"+addr+"/0?stream="+stream+"&maxlen=50&async=true&service=api")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		l.Info("line", "n", i)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(readStream(t, addr, stream))), "\n")
	// MAXLEN ~ trims in whole macro nodes: about 50, never all 500.
	if len(lines) < 50 || len(lines) >= 500 {
		t.Fatalf("%d entries, want about 50 (maxlen)", len(lines))
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, `"n":499`) || !strings.Contains(last, `"service":"api"`) {
		t.Fatalf("last entry %s", last)
	}
	if st := l.Stats(); st.Written != 500 || st.Errors != 0 {
		t.Fatalf("Stats %+v", st)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, raw := range []string{"redis://127.0.0.1:1/0?maxlen=x", "redis://127.0.0.1:1/0?timeout=soon", "redis://127.0.0.1:1/0?bogus_option=1"} {
		if l, err := log.Open(context.Background(), raw); err == nil {
			l.Close()
			t.Errorf("Open(%q) succeeded", raw)
		}
	}
	if _, err := redislog.New(nil, "", redislog.Options{}); !errors.Is(err, log.ErrInvalidOption) {
		t.Errorf("empty stream: %v", err)
	}
}

// Redis (appendfsync always) is SIGKILLed and restarted while a service
// logs through the async queue: written + dropped + failed == lines
// logged, and read back from the stream every line counted as written is
// there, in order, none twice; lines logged after Redis is back reach it.
func TestRedisKilledAndRestarted(t *testing.T) {
	addr, dir := testenv.FreePort(t), t.TempDir()
	aof := []string{"--appendonly", "yes", "--appendfsync", "always"}
	srv := testenv.StartRedisWith(t, addr, dir, aof...)
	stream := streamName(t)
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	out, err := redislog.New(c, stream, redislog.Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	l, err := log.New(log.WithOutput(out), log.WithAsync(log.OnFull(log.Drop), log.BufferSize(64<<10)))
	if err != nil {
		t.Fatal(err)
	}
	var logged atomic.Int64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			l.Info("load", "n", n)
			logged.Add(1)
		}
	}()
	waitUntil(t, "500 lines written before the kill", func() bool { return out.Stats().Written >= 500 })
	srv.Process.Kill()
	srv.Wait()
	waitUntil(t, "a failed write", func() bool { return out.Stats().Errors > 0 })
	testenv.StartRedisWith(t, addr, dir, aof...)
	after := out.Stats().Written
	waitUntil(t, "500 lines written after the restart", func() bool { return out.Stats().Written >= after+500 })
	close(stop)
	<-done
	if err := l.Close(); err != nil && !errors.Is(err, log.ErrOutput) {
		t.Fatal(err)
	}

	st, dropped := out.Stats(), l.Stats().Dropped
	if got := st.Written + dropped + out.FailedLines(); got != uint64(logged.Load()) {
		t.Fatalf("written %d + dropped %d + failed %d = %d, want the %d lines logged",
			st.Written, dropped, out.FailedLines(), got, logged.Load())
	}
	if !errors.Is(st.LastError, log.ErrOutput) {
		t.Errorf("LastError %v, want ErrOutput", st.LastError)
	}
	ms, err := c.XRange(context.Background(), stream, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	prev := -1
	for _, m := range ms {
		var line struct{ N int }
		if err := json.Unmarshal([]byte(m.Values[redislog.Field].(string)), &line); err != nil {
			t.Fatal(err)
		}
		if line.N <= prev {
			t.Fatalf("entry %s holds line %d after line %d: out of order or twice", m.ID, line.N, prev)
		}
		prev = line.N
	}
	// A failed line may be in the stream (applied, its reply lost); a written one must be.
	if n := uint64(len(ms)); n < st.Written || n > st.Written+out.FailedLines() {
		t.Fatalf("%d entries in the stream, want between written %d and written + failed %d", n, st.Written, st.Written+out.FailedLines())
	}
	t.Logf("%d lines logged: %d written, %d dropped, %d failed (%d failed writes); %d in the stream",
		logged.Load(), st.Written, dropped, out.FailedLines(), st.Errors, len(ms))
}

// waitUntil polls cond for at most 30s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Opened by URL without async=, a Redis output is queued: log calls
// return while Redis holds the output's write (a server that never
// answers, a timeout of a minute), dropping and counting what overflows
// the queue; none of them waited for the write to end.
func TestOpenQueuesByDefault(t *testing.T) {
	addr, release := holdingServer(t)
	l, err := log.Open(context.Background(), "redis://"+addr+"/0?stream=s&timeout=1m&dial_timeout=1m&read_timeout=1m&max_retries=-1")
	if err != nil {
		t.Fatal(err)
	}
	// 300 lines of 10 KB overflow the 1 MB queue: past it lines are
	// dropped and counted, never waited for.
	line := strings.Repeat("x", 10<<10)
	for i := 0; i < 300; i++ {
		l.Info("while redis hangs", "i", i, "payload", line)
	}
	st := l.Stats()
	if st.Dropped == 0 {
		t.Fatalf("stats %+v: a full queue against a hung Redis dropped nothing", st)
	}
	if st.Errors != 0 || st.Written != 0 {
		t.Fatalf("stats %+v: a write ended before the log calls did, so they may have waited on it", st)
	}
	release() // the held write fails at once; Close writes the rest, failing too
	l.Close()
}

// holdingServer accepts connections and never answers until release,
// which closes them (and the listener).
func holdingServer(t *testing.T) (addr string, release func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { io.Copy(io.Discard, c) })
		}
	})
	var once sync.Once
	release = func() {
		once.Do(func() {
			ln.Close()
			mu.Lock()
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
			wg.Wait()
		})
	}
	t.Cleanup(release)
	return ln.Addr().String(), release
}

// The same URL forms as kv: a Redis Cluster takes the stream too.
func TestOpenCluster(t *testing.T) {
	addrs := testenv.RedisCluster(t)
	stream := streamName(t)
	l, err := log.Open(context.Background(), "redis+cluster://"+strings.Join(addrs, ",")+"?async=false&stream="+stream)
	if err != nil {
		t.Fatal(err)
	}
	l.Info("on the cluster")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer c.Close()
	defer c.Del(context.Background(), stream)
	entries, err := c.XRange(context.Background(), stream, "-", "+").Result()
	if err != nil || len(entries) != 1 || !strings.Contains(fmt.Sprint(entries[0].Values), "on the cluster") {
		t.Fatalf("stream on the cluster: %v, %v", entries, err)
	}
}
