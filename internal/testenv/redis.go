package testenv

import (
	"bufio"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// StartRedis runs a redis-server of the test's own on addr (from FreePort)
// without persistence and waits until it answers, so that a test can kill
// it mid-load (cmd.Process.Kill) and start it again on the same address.
// The server is killed when the test ends.
func StartRedis(t testing.TB, addr string) *exec.Cmd {
	t.Helper()
	return StartRedisWith(t, addr, t.TempDir(), "--appendonly", "no")
}

// StartRedisWith is StartRedis with its data in dir (keep dir across a
// restart to read an AOF back) and extra redis-server arguments
// ("--appendonly", "yes", "--appendfsync", "always"; "--requirepass", pw).
// It returns once the server answers PING, with PONG or an auth refusal:
// done loading its AOF.
func StartRedisWith(t testing.TB, addr, dir string, args ...string) *exec.Cmd {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	all := append([]string{"--bind", host, "--port", port, "--save", "", "--dir", dir}, args...)
	cmd := exec.Command(Binary(t, "redis-server"), all...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: start redis-server: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for !ready(addr) {
		if time.Now().After(deadline) {
			t.Fatalf("testenv: redis-server on %s not ready within 10s", addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cmd
}

// ready reports whether the server at addr answers PING with PONG, or
// refuses it for want of a password: anything but a refused connection
// or LOADING (an AOF still being read).
func ready(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return false
	}
	return line == "+PONG\r\n" || strings.HasPrefix(line, "-NOAUTH") || strings.HasPrefix(line, "-WRONGPASS")
}
