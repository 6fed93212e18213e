package kvbench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microos/go-os/kv/ringkv"
)

// A child is this test binary run again as another process, so that a
// remote ringkv call crosses a process boundary as a Redis call does:
// in one process, client and server hand off between goroutines of one
// scheduler, which is cheaper than waking another process.
const (
	childRole = "KVBENCH_CHILD"      // "ring": a ringkv instance; "raw": one handler writing value
	childSpec = "KVBENCH_CHILD_SPEC" // ring options, as ringSpec reads them
)

func TestMain(m *testing.M) {
	if role := os.Getenv(childRole); role != "" {
		os.Exit(runChild(role, os.Getenv(childSpec)))
	}
	os.Exit(m.Run())
}

// ringSpec turns "n=1,h2c" into options.
func ringSpec(spec string) []ringkv.Option {
	var opts []ringkv.Option
	for _, f := range strings.Split(spec, ",") {
		switch f {
		case "n=1":
			opts = append(opts, ringkv.WithReplicas(1))
		case "n=2":
			opts = append(opts, ringkv.WithReplicas(2))
		case "h2c":
			opts = append(opts, ringkv.WithH2C())
		}
	}
	return opts
}

// newH2CServer is a loopback server that speaks HTTP/1.1 and h2c, as an
// instance set up for WithH2C.
func newH2CServer(h http.Handler) *http.Server {
	srv := &http.Server{Handler: h, Protocols: new(http.Protocols)}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	return srv
}

// lateHandler serves 503 "starting" until set: a ring instance exists only
// after its URL is known (and its peers may call it as soon as it does),
// so its server starts first. set and ServeHTTP may race, hence atomic.
type lateHandler struct{ h atomic.Pointer[http.Handler] }

func (l *lateHandler) set(h http.Handler) { l.h.Store(&h) }

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := l.h.Load()
	if h == nil {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	(*h).ServeHTTP(w, r)
}

// runChild serves until its stdin ends (the parent closed it or died).
// It prints its URL; a ring child then reads the ring's members (one
// line), joins, and prints "settled" once it holds its keys.
func runChild(role, spec string) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "kvbench child:", err)
		return 3
	}
	self := "http://" + l.Addr().String()
	handler := new(lateHandler)
	srv := newH2CServer(handler)
	go srv.Serve(l)
	fmt.Println(self)
	in := bufio.NewReader(os.Stdin)
	switch role {
	case "raw":
		handler.set(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(value) }))
	case "ring":
		line, err := in.ReadString('\n')
		if err != nil {
			return 4
		}
		r, err := ringkv.New(self, strings.Split(strings.TrimSpace(line), ","), ringSpec(spec)...)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kvbench child:", err)
			return 4
		}
		handler.set(r.Handler())
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = r.Settle(ctx)
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, "kvbench child: Settle:", err)
			return 5
		}
		fmt.Println("settled")
	default:
		return 2
	}
	io.Copy(io.Discard, in)
	return 0
}

// child is a running child process.
type child struct {
	url   string
	in    *os.File    // its stdin
	lines chan string // its stdout
	cmd   *exec.Cmd
}

// startChild runs a child; Cleanup kills and reaps it.
func startChild(t *testing.T, role, spec string) *child {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childRole+"="+role, childSpec+"="+spec)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, os.Stderr
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		t.Fatal(err)
	}
	c := &child{in: inW, lines: make(chan string, 4), cmd: cmd}
	done := make(chan struct{})
	go func() { // ends at EOF: when the child exits
		defer close(done)
		defer close(c.lines)
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		inW.Close()
		cmd.Process.Kill()
		cmd.Wait()
		<-done
		outR.Close()
	})
	c.url = c.expect(t, "")
	return c
}

// expect returns the child's next line, which must be want unless want
// is empty.
func (c *child) expect(t *testing.T, want string) string {
	t.Helper()
	select {
	case line, ok := <-c.lines:
		if !ok {
			t.Fatalf("child %s exited (waiting for %q)", c.url, want)
		}
		if want != "" && line != want {
			t.Fatalf("child %s said %q, want %q", c.url, line, want)
		}
		return line
	case <-time.After(30 * time.Second):
		t.Fatalf("child %s: no %q after 30 s", c.url, want)
	}
	return ""
}

// ringWithChildren makes a ring of this process's instance and count
// child processes, with the options of spec on every instance; it
// returns this process's instance once every instance has settled.
func ringWithChildren(t *testing.T, count int, spec string) *ringkv.Ring {
	t.Helper()
	handler := new(lateHandler)
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.Protocols = newH2CServer(nil).Protocols
	srv.Start()
	t.Cleanup(srv.Close)
	members := []string{srv.URL}
	children := make([]*child, count)
	for i := range children {
		children[i] = startChild(t, "ring", spec)
		members = append(members, children[i].url)
	}
	for _, c := range children {
		if _, err := fmt.Fprintln(c.in, strings.Join(members, ",")); err != nil {
			t.Fatal(err)
		}
	}
	r, err := ringkv.New(srv.URL, members, ringSpec(spec)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	handler.set(r.Handler())
	for _, c := range children {
		c.expect(t, "settled")
	}
	if err := r.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}
