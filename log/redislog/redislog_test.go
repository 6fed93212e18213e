package redislog_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
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

// Redis is killed while the service logs through the async queue: the
// caller never blocks (Drop policy), the failed writes are counted, and
// lines logged after Redis is back reach the stream.
func TestRedisKilledAndRestarted(t *testing.T) {
	addr := testenv.FreePort(t)
	srv := testenv.StartRedis(t, addr)
	stream := streamName(t)
	l, err := log.Open(context.Background(),
		"redis://"+addr+"/0?stream="+stream+"&timeout=200ms&dial_timeout=100ms&async=true&policy=drop&buffer=64KiB")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Info("before")
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.Process.Kill()
	srv.Wait()
	start := time.Now()
	for i := range 2000 {
		l.Info("while down", "n", i)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("logging 2000 lines with Redis down took %s: the caller waited on Redis", took)
	}
	l.Flush(context.Background())
	if st := l.Stats(); st.Errors == 0 || !errors.Is(st.LastError, log.ErrOutput) {
		t.Fatalf("Stats %+v: want counted output errors", st)
	}

	testenv.StartRedis(t, addr)
	deadline := time.Now().Add(5 * time.Second)
	for {
		l.Info("after")
		l.Flush(context.Background())
		if strings.Contains(string(readStream(t, addr, stream)), `"msg":"after"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no line reached Redis within 5s of its restart")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Opened by URL without async=, a Redis output is queued: a log call
// returns at once even when Redis hangs.
func TestOpenQueuesByDefault(t *testing.T) {
	l, err := log.Open(context.Background(), "redis://"+testenv.Hung(t)+"/0?stream=s&timeout=200ms")
	if err != nil {
		t.Fatal(err)
	}
	// 300 lines of 10 KB overflow the 1 MB queue: past it lines are
	// dropped and counted, never waited for.
	line := strings.Repeat("x", 10<<10)
	start := time.Now()
	for i := 0; i < 300; i++ {
		l.Info("while redis hangs", "i", i, "payload", line)
	}
	if took := time.Since(start); took > 300*time.Millisecond {
		t.Fatalf("300 log calls took %v against a hung Redis: a call waited on the network", took)
	}
	if st := l.Stats(); st.Dropped == 0 {
		t.Fatalf("stats %+v: a full queue against a hung Redis dropped nothing", st)
	}
	l.Close() // the queued lines fail against the hung server and are counted
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
