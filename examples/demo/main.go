// Command demo runs a small system built from go-os's packages, in one
// process, on the embedded in-memory defaults: no servers needed.
//
//	go run ./examples/demo          # walkthrough on one screen, exits 0
//	go run ./examples/demo -serve   # keeps running: status page and API
//
// The system: a gateway, a greeter and a counter with two instances, each a
// real HTTP server on 127.0.0.1 with its own tracer, metrics and logger.
// discovery registers them, the gateway reaches the others through the
// router, the counter keeps its state in kv and elects a leader with sync
// for its periodic job, config comes from a file and env, the greeter
// publishes an event per greeting that the counter consumes, every call
// behind the gateway carries a client-credentials token checked against one
// policy, and monitor checks the health of all of it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	serve := flag.Bool("serve", false, "keep running and serve the status page")
	addr := flag.String("addr", "127.0.0.1:8080", "with -serve: where the gateway's /monitor/ listens")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !*serve {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	if err := run(ctx, os.Stdout, options{serve: *serve, addr: *addr}); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type options struct {
	serve bool
	addr  string
	logs  io.Writer // every service's JSON log lines (default: discarded, a few are printed)
}
