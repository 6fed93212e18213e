package testenv

import (
	"bufio"
	"net"
	"os/exec"
	"testing"
	"time"
)

// StartRedis runs a redis-server of the test's own on addr (from FreePort)
// and waits until it answers PING, so that a test can kill it mid-load
// (cmd.Process.Kill) and start it again on the same address. The server
// is killed when the test ends.
func StartRedis(t testing.TB, addr string) *exec.Cmd {
	t.Helper()
	bin := Binary(t, "redis-server")
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "--bind", host, "--port", port, "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: start redis-server: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(5 * time.Second)
	for !pong(addr) {
		if time.Now().After(deadline) {
			t.Fatalf("testenv: redis-server on %s did not answer PING within 5s", addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cmd
}

func pong(addr string) bool {
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
	return err == nil && line == "+PONG\r\n"
}
