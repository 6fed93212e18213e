package redislog_test

import (
	"context"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/internal/testenv"
)

// startRedis runs a redis-server of the test's own on addr with extra
// arguments (testenv.StartRedis takes none: persistence needs them) and
// returns once it answers PING, i.e. once it has loaded its AOF. It is
// killed when the test ends.
func startRedis(t *testing.T, addr, dir string, args ...string) *exec.Cmd {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	all := append([]string{"--bind", host, "--port", port, "--save", "", "--dir", dir}, args...)
	cmd := exec.Command(testenv.Binary(t, "redis-server"), all...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s not ready within 10s", addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cmd
}
