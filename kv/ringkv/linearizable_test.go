package ringkv_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/kv"
)

// The model checked: each key is a register that holds a value or none,
// under Get, Set, Add, CompareAndSwap and Delete, one at a time. Every
// written value is unique, so a version (which the client reads with a
// value) stands for the value it was read with: CompareAndSwap succeeds
// exactly when the register still holds the value its version was read
// with. The history is of concurrent clients on every instance of a ring
// whose members do not change; under membership changes the ring orders
// racing writes by version (see the package doc), which the load tests
// check instead: no acknowledged write is lost.

type regOp struct {
	Op     string // get, set, add, cas, delete
	Key    string
	Value  string // set, add, cas: the value written
	Expect string // cas: the value its version was read with
}

type regOut struct {
	Found bool   // get: a value was there
	Value string // get
	Err   string // "", "exists", "conflict", "notfound"
}

type register struct {
	Exists bool
	Value  string
}

var registerModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, op := range h {
			k := op.Input.(regOp).Key
			byKey[k] = append(byKey[k], op)
		}
		var out [][]porcupine.Operation
		for _, ops := range byKey {
			out = append(out, ops)
		}
		return out
	},
	Init: func() any { return register{} },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(register), input.(regOp), output.(regOut)
		switch in.Op {
		case "get":
			return out.Found == s.Exists && (!s.Exists || out.Value == s.Value), s
		case "set":
			return out.Err == "", register{true, in.Value}
		case "delete":
			return out.Err == "", register{}
		case "add":
			if s.Exists {
				return out.Err == "exists", s
			}
			return out.Err == "", register{true, in.Value}
		case "cas":
			switch {
			case !s.Exists:
				return out.Err == "notfound", s
			case s.Value != in.Expect:
				return out.Err == "conflict", s
			}
			return out.Err == "", register{true, in.Value}
		}
		return false, s
	},
	DescribeOperation: func(input, output any) string {
		return fmt.Sprintf("%+v -> %+v", input, output)
	},
}

func errName(err error) (string, error) {
	switch {
	case err == nil:
		return "", nil
	case errors.Is(err, kv.ErrExists):
		return "exists", nil
	case errors.Is(err, kv.ErrConflict):
		return "conflict", nil
	case errors.Is(err, kv.ErrNotFound):
		return "notfound", nil
	}
	return "", err
}

func TestLinearizablePerKey(t *testing.T) {
	nodes := cluster(t, 3)
	checkHistory(t, storesOf(t, nodes), 10, nil)
}

// Across a join and a leave, with Get, Set and Delete only (the racing
// Add and CompareAndSwap of a membership change are ordered by version,
// not decided by one owner: see the package doc), the history of
// clients on the instances that stay is still that of one register per
// key in this test. The package promises less: this checks that the
// handoff, the joiner's forwarding and the leave keep it so here.
func TestLinearizableAcrossJoinAndLeave(t *testing.T) {
	reg := discovery.NewMemory()
	defer reg.Close()
	f := newFleet(t, reg, "ring-lin")
	for i := 0; i < 3; i++ {
		f.add()
	}
	f.converge()
	stores := storesOf(t, f.nodes)
	checkHistory(t, stores, 7, func() {
		d := f.add()
		f.converge()
		if err := d.ring.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		f.remove(d)
		f.converge()
	})
}

// checkHistory runs concurrent clients over stores (ops drawn from
// [0, mix): get < 4 <= set < 6 <= add < 7 <= cas < 9 <= delete), runs
// during (if set) in the middle, and checks the history with porcupine.
func checkHistory(t *testing.T, stores []kv.Store, mix int, during func()) {
	const clients, opsPerClient = 6, 80
	keys := []string{"lin-a", "lin-b", "lin-c"}
	start := time.Now()
	var done atomic.Bool // the membership change ended
	if during == nil {
		done.Store(true)
	}
	var (
		mu      sync.Mutex
		history []porcupine.Operation
		wg      sync.WaitGroup
	)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			s := stores[c%len(stores)] // clients on every instance
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			// What this client last read of each key, for its CAS.
			seen := map[string]kv.Item{}
			record := func(in regOp, call int64, out regOut) {
				mu.Lock()
				history = append(history, porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: int64(time.Since(start))})
				mu.Unlock()
			}
			for i := 0; i < opsPerClient || !done.Load(); i++ {
				k := keys[rng.IntN(len(keys))]
				v := fmt.Sprintf("c%d-%d", c, i)
				in := regOp{Key: k, Value: v}
				var err error
				call := int64(time.Since(start))
				out := regOut{}
				p := rng.IntN(mix)
				if mix < 10 && p >= 6 {
					p = 9 // no add or cas
				}
				switch {
				case p < 4:
					in.Op, in.Value = "get", ""
					var it kv.Item
					it, err = s.Get(ctx, k)
					if err == nil {
						out.Found, out.Value = true, string(it.Value)
						seen[k] = it
					} else if errors.Is(err, kv.ErrNotFound) {
						err = nil
						delete(seen, k)
					}
				case p < 6:
					in.Op = "set"
					err = s.Set(ctx, kv.Item{Key: k, Value: []byte(v)})
				case p < 7:
					in.Op = "add"
					err = s.Add(ctx, kv.Item{Key: k, Value: []byte(v)})
				case p < 9:
					it, ok := seen[k]
					if !ok {
						continue
					}
					in.Op, in.Expect = "cas", string(it.Value)
					err = s.CompareAndSwap(ctx, kv.Item{Key: k, Value: []byte(v), Version: it.Version})
				default:
					in.Op, in.Value = "delete", ""
					err = s.Delete(ctx, k)
				}
				if out.Err, err = errName(err); err != nil {
					t.Errorf("%+v: %v", in, err)
					return
				}
				record(in, call, out)
			}
		}()
	}
	if during != nil {
		// Mid-history: after the clients' first operations.
		waitFor(t, "the first operations", func() bool { mu.Lock(); defer mu.Unlock(); return len(history) >= 60 })
		during()
		mu.Lock()
		t.Logf("the membership change ended after %d operations", len(history))
		mu.Unlock()
		done.Store(true)
	}
	wg.Wait()
	res := porcupine.CheckOperationsTimeout(registerModel, history, 30*time.Second)
	t.Logf("%d operations by %d clients on 3 instances, %d keys: %s", len(history), clients, len(keys), res)
	if res == porcupine.Illegal {
		t.Fatal("the history is not linearizable")
	}
	if res != porcupine.Ok {
		t.Fatalf("porcupine: %s", res)
	}
}
