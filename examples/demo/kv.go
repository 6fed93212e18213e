package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microos/go-os/kv"
)

// demoKV shows what instances of a service share through kv: a session
// with a TTL, a counter several instances increment without losing an
// update, and one round trip for many keys. KV_URL picks the backend
// (mem:// by default; redis://..., memcache://... with the adapters imported).
func demoKV(ctx context.Context, w io.Writer, url string) error {
	store, err := kv.Open(ctx, url+"?namespace=demo:")
	if err != nil {
		return err
	}
	defer store.Close()

	if err := store.Set(ctx, kv.Item{Key: "session:ada", Value: []byte(`{"user":"ada","plan":"pro"}`), TTL: 30 * time.Minute}); err != nil {
		return err
	}
	s, err := store.Get(ctx, "session:ada")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "kv: session:ada = %s (expires in %v)\n", s.Value, s.TTL.Round(time.Minute))

	if _, err := store.Get(ctx, "session:bob"); errors.Is(err, kv.ErrNotFound) {
		fmt.Fprintln(w, "kv: session:bob not found (a miss, not an outage: kv.ErrUnavailable is another error)")
	}

	// Four "instances" increment one counter 25 times each with
	// compare-and-swap: no update is lost.
	if err := store.Set(ctx, kv.Item{Key: "visits", Value: []byte("0")}); err != nil {
		return err
	}
	var wg sync.WaitGroup
	var conflicts atomic.Int64
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < 25; {
				it, err := store.Get(ctx, "visits")
				if err != nil {
					return
				}
				v, _ := strconv.Atoi(string(it.Value))
				it.Value = strconv.AppendInt(nil, int64(v+1), 10)
				switch err := store.CompareAndSwap(ctx, it); {
				case err == nil:
					done++
				case errors.Is(err, kv.ErrConflict):
					conflicts.Add(1)
				default:
					return
				}
			}
		}()
	}
	wg.Wait()
	v, err := store.Get(ctx, "visits")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "kv: 4 instances x 25 compare-and-swap increments: visits = %s (%d conflicts retried)\n", v.Value, conflicts.Load())

	items, err := store.GetMulti(ctx, []string{"session:ada", "session:bob", "visits"})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "kv: GetMulti of 3 keys found %d in one call\n", len(items))
	return nil
}
