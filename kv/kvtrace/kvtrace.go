// Package kvtrace starts a client span for every kv call, through a Store
// hook:
//
//	tracer, _ := trace.Open(ctx, os.Getenv("TRACE_URL"))
//	store, _ := kv.Open(ctx, os.Getenv("KV_URL"), kv.WithHook(kvtrace.Hook(tracer)))
//
// The span is named "kv <op>" ("kv get"), of kind Client, child of the
// span in the call's ctx, with the tags db.system (redis, memcached,
// memory, ringkv), db.operation (get, getmulti, set, add, cas, delete) and
// kv.key (the key without the namespace; the key count for getmulti). A
// failed call sets the span's error; a miss (kv.ErrNotFound) is an answer,
// not a failure, and only tags kv.hit=false.
//
// Order it outermost of the kv hooks (trace → metrics → log), so that the
// span covers what the others do.
package kvtrace

import (
	"context"
	"errors"
	"strconv"

	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/trace"
)

// Hook returns a kv.Hook that traces every call on t. A nil t traces
// nothing and costs the caller nothing but a nil check.
func Hook(t *trace.Tracer) kv.Hook {
	return func(next kv.Invoker) kv.Invoker {
		if t == nil {
			return next
		}
		return func(ctx context.Context, c *kv.Call) error {
			ctx, span := t.Start(ctx, spanName(c.Op), trace.Client)
			if span == nil { // not sampled
				return next(ctx, c)
			}
			span.SetTag("db.system", c.System)
			span.SetTag("db.operation", c.Op)
			if c.Op == "getmulti" {
				span.SetTag("kv.keys", strconv.Itoa(len(c.Keys)))
			} else {
				span.SetTag("kv.key", c.Key)
			}
			err := next(ctx, c)
			switch {
			case err == nil:
				if c.Op == "get" {
					span.SetTag("kv.hit", "true")
				}
			case errors.Is(err, kv.ErrNotFound) && c.Op == "get":
				span.SetTag("kv.hit", "false")
			default:
				span.SetError(err)
			}
			span.End()
			return err
		}
	}
}

func spanName(op string) string {
	switch op {
	case "get":
		return "kv get"
	case "getmulti":
		return "kv getmulti"
	case "set":
		return "kv set"
	case "add":
		return "kv add"
	case "cas":
		return "kv cas"
	case "delete":
		return "kv delete"
	}
	return "kv " + op
}
