package synctest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// A holder in another process, for tests that SIGKILL it: the test binary
// runs itself again with an environment variable set, and that child takes
// a lock or leadership, prints its fencing token and holds until killed.
//
// In the test file:
//
//	func init() { synctest.ChildMain(env, func(spec string) (uint64, error) { ...take it... }) }
//	cmd, token := synctest.StartChild(t, env, spec)

// ChildMain runs hold when this process is the child that env names: it
// prints hold's token and blocks forever (the test kills it). Call it from
// an init function; in the parent it returns at once.
func ChildMain(env string, hold func(spec string) (uint64, error)) {
	spec := os.Getenv(env)
	if spec == "" {
		return
	}
	token, err := hold(spec)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("token", token)
	select {}
}

// StartChild starts the test binary as the child that holds spec, waits
// until it holds, and returns it with its token. It is killed at the end
// of the test if the test did not kill it first.
func StartChild(t *testing.T, env, spec string) (*exec.Cmd, uint64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env+"="+spec)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "token ") {
		t.Fatalf("child holding %q: %q %v", spec, line, err)
	}
	token, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(line, "token ")), 10, 64)
	if err != nil {
		t.Fatalf("child holding %q printed %q", spec, line)
	}
	return cmd, token
}
