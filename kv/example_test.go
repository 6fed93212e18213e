package kv_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/oserr"
)

func Example() {
	ctx := context.Background()
	store, err := kv.Open(ctx, "mem://?namespace=billing:")
	if err != nil {
		panic(err)
	}
	defer store.Close()

	store.Set(ctx, kv.Item{Key: "plan:42", Value: []byte("pro"), TTL: time.Hour})
	it, err := store.Get(ctx, "plan:42")
	fmt.Println(string(it.Value), it.TTL > 59*time.Minute, err)

	_, err = store.Get(ctx, "plan:43")
	fmt.Println(errors.Is(err, kv.ErrNotFound))
	// Output:
	// pro true <nil>
	// true
}

func ExampleStore_GetMulti() {
	ctx := context.Background()
	store := kv.NewMemory()
	defer store.Close()
	for _, k := range []string{"a", "c"} {
		store.Set(ctx, kv.Item{Key: k, Value: []byte(k + k)})
	}
	items, _ := store.GetMulti(ctx, []string{"a", "b", "c"})
	keys := make([]string, 0, len(items))
	for k := range items {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Println(k, string(items[k].Value))
	}
	// Output:
	// a aa
	// c cc
}

// A read-modify-write loop that loses no update to a concurrent writer.
func ExampleStore_CompareAndSwap() {
	ctx := context.Background()
	store := kv.NewMemory()
	defer store.Close()
	store.Set(ctx, kv.Item{Key: "visits", Value: []byte("41")})

	for {
		it, err := store.Get(ctx, "visits")
		if err != nil {
			panic(err)
		}
		var n int
		fmt.Sscan(string(it.Value), &n)
		it.Value = fmt.Appendf(nil, "%d", n+1)
		err = store.CompareAndSwap(ctx, it)
		if errors.Is(err, kv.ErrConflict) {
			continue // someone wrote in between: read again
		}
		if err != nil {
			panic(err)
		}
		break
	}
	it, _ := store.Get(ctx, "visits")
	fmt.Println(string(it.Value))
	// Output: 42
}

func ExampleWithClock() {
	ctx := context.Background()
	now := time.Unix(0, 0)
	store := kv.NewMemory(kv.WithClock(func() time.Time { return now }))
	store.Set(ctx, kv.Item{Key: "session", Value: []byte("x"), TTL: time.Minute})

	now = now.Add(time.Minute) // no sleeping in TTL tests
	_, err := store.Get(ctx, "session")
	fmt.Println(err)
	// Output: kv: not found
}

// Check is the Store's health for a readiness probe or the monitor
// package: nil while the backend answers, an error of class Unavailable
// (or Forbidden) otherwise, never blocking past ctx.
func ExampleStore_Check() {
	ctx := context.Background()
	store := kv.NewMemory()
	defer store.Close()

	c, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	err := store.Check(c)
	fmt.Println(err, oserr.Code(err) == oserr.Unavailable)

	store.Close()
	err = store.Check(ctx)
	fmt.Println(errors.Is(err, kv.ErrClosed))
	// Output:
	// <nil> false
	// true
}

// A Hook wraps every call: here it counts misses per operation. kv/kvtrace
// and kv/kvmetrics are hooks too.
func ExampleWithHook() {
	ctx := context.Background()
	misses := map[string]int{}
	countMisses := func(next kv.Invoker) kv.Invoker {
		return func(ctx context.Context, c *kv.Call) error {
			err := next(ctx, c)
			if errors.Is(err, kv.ErrNotFound) {
				misses[c.Op]++
			}
			return err
		}
	}
	store := kv.NewMemory(kv.WithHook(countMisses))
	defer store.Close()

	store.Set(ctx, kv.Item{Key: "a", Value: []byte("1")})
	store.Get(ctx, "a")
	store.Get(ctx, "b")
	store.CompareAndSwap(ctx, kv.Item{Key: "c", Value: []byte("3"), Version: 7})
	fmt.Println(misses)
	// Output:
	// map[cas:1 get:1]
}
