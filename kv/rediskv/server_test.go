package rediskv_test

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/internal/testenv"
)

// startRedis runs a redis-server of the test's own on addr with extra
// arguments (testenv.StartRedis takes none: persistence and passwords
// need them). It returns once the server answers, and kills it when the
// test ends.
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
	for {
		// Any reply (PONG, NOAUTH, LOADING) means it listens; wait for
		// PONG or an auth refusal, i.e. done loading the AOF.
		err := c.Ping(context.Background()).Err()
		if err == nil || isAuthErr(err) {
			return cmd
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s not ready within 10s: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func isAuthErr(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return false
	}
	m := re.Error()
	return strings.HasPrefix(m, "NOAUTH") || strings.HasPrefix(m, "WRONGPASS")
}
