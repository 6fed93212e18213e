package ringkv_test

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/microos/go-os/kv/ringkv"
)

// childEnv names the environment of an instance run as a child process
// of the test binary, to be killed with SIGKILL.
const (
	childAddr  = "RINGKV_TEST_CHILD_ADDR"
	childPeers = "RINGKV_TEST_CHILD_PEERS"
)

// runChildIfAsked serves one ring instance and never returns when the
// test binary was started as a child instance.
func runChildIfAsked() {
	addr := os.Getenv(childAddr)
	if addr == "" {
		return
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		os.Exit(3)
	}
	r, err := ringkv.New("http://"+addr+"/_kv", strings.Split(os.Getenv(childPeers), ","))
	if err != nil {
		os.Exit(4)
	}
	mux := http.NewServeMux()
	mux.Handle("/_kv/", r.Handler())
	http.Serve(l, mux)
	os.Exit(5)
}

// startChild runs an instance at addr in a child process, among peers.
func startChild(t *testing.T, addr string, peers []string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childAddr+"="+addr, childPeers+"="+strings.Join(peers, ","))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	})
	return cmd
}
