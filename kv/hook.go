package kv

import (
	"context"
	"sync"
	"time"
)

var calls = sync.Pool{New: func() any { return new(Call) }}

func newCall(op, system, key string) *Call {
	c := calls.Get().(*Call)
	c.Op, c.System, c.Key = op, system, key
	return c
}

// release clears c (so that the pool keeps no value or map alive) and
// returns it to the pool.
func (c *Call) release() {
	*c = Call{}
	calls.Put(c)
}

// Call is one Store call as a Hook sees it: what was asked and, once next
// returned, what came back. The Store reuses Calls: a hook must not keep
// one (or hand it to another goroutine) after its Invoker returns; copy the
// fields it needs.
type Call struct {
	// Op is "get", "getmulti", "set", "add", "cas" or "delete".
	Op string
	// System names the backend: "memory", "redis", "memcached",
	// "ringkv", or a driver's own System().
	System string
	// Key is the key as the caller gave it, without the namespace (empty
	// for getmulti).
	Key string
	// Keys are GetMulti's keys. Read-only.
	Keys []string
	// Item is the item written (set, add, cas), or Get's result once next
	// returned. A hook may change it before calling next.
	Item Item
	// Items is GetMulti's result once next returned.
	Items map[string]Item
}

// Invoker performs a Store call: the whole call (use-after-Close, key
// validation, namespacing, the backend), so that a hook wrapping it times
// all of it. It returns the call's error, as the Store method will.
type Invoker func(ctx context.Context, call *Call) error

// Hook wraps every Get, GetMulti, Set, Add, CompareAndSwap and Delete of a
// Store, go-redis v9 ProcessHook style: it gets the next Invoker and
// returns one that does its work around it — start a span before, record a
// duration after, change ctx. Hooks given first run outermost. Check,
// Shutdown and Close do not go through hooks.
type Hook func(next Invoker) Invoker

// WithHook adds a hook. Without hooks a call costs nothing for them and
// reads no clock; with hooks, Calls come from a pool, so hooks that
// allocate nothing themselves add no allocation.
func WithHook(h Hook) Option {
	return func(o *options) {
		if h != nil {
			o.hooks = append(o.hooks, h)
		}
	}
}

// Observer is told of every call when it ends: the operation ("get", "set",
// "add", "cas", "delete", "getmulti"), how many keys it touched, how long it
// took and its error. It runs on the caller's goroutine and must not block.
type Observer func(ctx context.Context, op string, keys int, took time.Duration, err error)

// WithObserver adds an observer, built on a Hook: the shorthand for
// metrics that need only the outcome.
func WithObserver(obs Observer) Option {
	return WithHook(func(next Invoker) Invoker {
		return func(ctx context.Context, c *Call) error {
			start := time.Now()
			err := next(ctx, c)
			keys := 1
			if c.Op == "getmulti" {
				keys = len(c.Keys)
			}
			obs(ctx, c.Op, keys, time.Since(start), err)
			return err
		}
	})
}
