package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The template serves, and a real SIGTERM makes it leave cleanly: run
// returns nil and every goroutine it started is gone (goleak).
func TestServeAndSIGTERM(t *testing.T) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	addrs := make(chan string, 1)
	done := make(chan error, 1)
	entered, release := make(chan struct{}), make(chan struct{})
	slow := func(mux *http.ServeMux) {
		mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			<-release
			io.WriteString(w, "done")
		})
	}
	go func() { done <- run(ctx, "127.0.0.1:0", func(a string) { addrs <- a }, slow) }()
	var addr string
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("not listening after 30s")
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("http://" + addr + "/hello/ada")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello, ada\n" {
		t.Fatalf("GET /hello/ada: %s %q", resp.Status, body)
	}
	tr.CloseIdleConnections()

	// A request in flight when SIGTERM comes must be answered, not cut.
	inflight := make(chan string, 1)
	go func() {
		resp, err := (&http.Client{Transport: tr}).Get("http://" + addr + "/slow")
		if err != nil {
			inflight <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		inflight <- resp.Status + " " + string(b)
	}()
	<-entered
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Wait until the server takes no new connections (it is draining),
	// then let the in-flight request finish.
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections 30s after SIGTERM")
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, bounded by the deadline
	}
	close(release)
	if got := <-inflight; got != "200 OK done" {
		t.Errorf("in-flight request during shutdown: %s", got)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return 30s after SIGTERM")
	}
}
