package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/microos/go-os/config"
	"github.com/microos/go-os/event"
	"github.com/microos/go-os/kv"
	ossync "github.com/microos/go-os/sync"
)

// greeter answers with the greeting of the request's config snapshot, so an
// edit of the config file changes the next answer, never half of one.
// Each greeting is published as an event: the counter consumes it.
func greeterMux(bus *event.Bus, eventType string) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /greet/{name}", func(w http.ResponseWriter, r *http.Request) {
		snap := config.FromContext(r.Context())
		if _, err := bus.Publish(r.Context(), event.Record{Type: eventType, Data: []byte(r.PathValue("name"))}); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "%s, %s%s", snap.Get("greeting", "text").String("Hello"), r.PathValue("name"), snap.Get("greeting", "suffix").String(""))
	})
	return mux
}

// counter keeps its state in kv, shared by both instances: either one can
// answer, the count is the same. CompareAndSwap makes the increment safe
// when both write at once.
func counterMux(store kv.Store, instance string) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /count/{name}", func(w http.ResponseWriter, r *http.Request) {
		n, err := incr(r.Context(), store, "visits:"+r.PathValue("name"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "%d %s", n, instance)
	})
	return mux
}

func incr(ctx context.Context, store kv.Store, key string) (int, error) {
	for {
		it, err := store.Get(ctx, key)
		if errors.Is(err, kv.ErrNotFound) {
			if err = store.Add(ctx, kv.Item{Key: key, Value: []byte("1")}); err == nil {
				return 1, nil
			}
		} else if err == nil {
			n, _ := strconv.Atoi(string(it.Value))
			it.Value = strconv.AppendInt(nil, int64(n+1), 10)
			if err = store.CompareAndSwap(ctx, it); err == nil {
				return n + 1, nil
			}
		}
		if !errors.Is(err, kv.ErrExists) && !errors.Is(err, kv.ErrConflict) && !errors.Is(err, kv.ErrNotFound) {
			return 0, err
		}
	}
}

// campaign makes instance a candidate for the counter's periodic job: it
// blocks until elected, then runs the job every period until its
// leadership ends (resigned, lost or closed). Only the leader runs it:
// the job's context is the lease's, cancelled the moment it is lost.
func campaign(ctx context.Context, locks *ossync.Client, election, instance string, elected chan<- *ossync.Leadership, ran chan<- string) error {
	l, err := locks.Campaign(ctx, election, instance)
	if err != nil {
		return err
	}
	elected <- l
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-l.Done():
			return nil
		case <-ctx.Done():
			return l.Resign(context.WithoutCancel(ctx))
		case <-t.C:
			select {
			case ran <- instance: // the job: here it only reports that it ran
			case <-l.Done():
				return nil
			case <-ctx.Done():
			}
		}
	}
}

// helloHandler is the gateway's API: it greets through the greeter and
// counts through a counter instance, both reached by name through the
// router inside c.
func helloHandler(c *http.Client, ns string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hello, err := get(r.Context(), c, "http://"+ns+"greeter/greet/"+r.PathValue("name"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		count, err := get(r.Context(), c, "http://"+ns+"counter/count/"+r.PathValue("name"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		var n int
		var by string
		fmt.Sscan(count, &n, &by)
		fmt.Fprintf(w, "%s (visit %d, counted by %s)", hello, n, by)
	}
}

// consumeGreetings is the counter group's consumer of the greeter's
// events: for each one it records that it counted, in the same flow (the
// record's root id), and offers the greeting to seen without blocking.
func consumeGreetings(ctx context.Context, bus *event.Bus, sent, counted string, seen chan<- event.Record) (*event.Subscription, error) {
	return bus.Subscribe(ctx, func(ctx context.Context, r event.Record) error {
		if _, err := bus.Publish(ctx, event.Record{Type: counted, Data: r.Data}); err != nil {
			return err
		}
		select {
		case seen <- r:
		default:
		}
		return nil
	}, event.SubscribeOptions{Types: []string{sent}, Group: "counter"})
}
