package synctest

import (
	"errors"
	"fmt"
	"math"
	gosync "sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	ossync "github.com/microos/go-os/sync"
)

// The history checked by porcupine: clients take the lock, write to a
// resource with their fencing token while they believe they hold it, and
// end their hold by Unlock or by learning of its loss. The model is a lock
// with fencing: at most one holder; an acquire returns a token larger
// than every earlier one; a write is legal only by the holder with its
// token. A lost hold's end is known only to come after its last write,
// so it is an operation left open to the end of the history: porcupine
// may place it anywhere after that. The history is linearizable exactly
// when no two clients held the lock with overlapping fencing-valid
// intervals.

type opKind int

const (
	opAcquire opKind = iota
	opWrite
	opRelease
)

type lockIn struct {
	Kind   opKind
	Client int
	Token  uint64 // write: the token written with
}

type lockOut struct {
	Token uint64 // acquire: the token got
}

type lockState struct {
	Holder int // -1: free
	Token  uint64
	Max    uint64
}

var fencedLock = porcupine.Model{
	Init: func() any { return lockState{Holder: -1} },
	Step: func(state, input, output any) (bool, any) {
		s, in := state.(lockState), input.(lockIn)
		switch in.Kind {
		case opAcquire:
			t := output.(lockOut).Token
			if s.Holder != -1 || t <= s.Max {
				return false, s
			}
			return true, lockState{Holder: in.Client, Token: t, Max: t}
		case opWrite:
			return s.Holder == in.Client && s.Token == in.Token, s
		default:
			if s.Holder != in.Client {
				return false, s
			}
			return true, lockState{Holder: -1, Max: s.Max}
		}
	},
	DescribeOperation: func(input, output any) string {
		in := input.(lockIn)
		switch in.Kind {
		case opAcquire:
			return fmt.Sprintf("c%d acquire -> %d", in.Client, output.(lockOut).Token)
		case opWrite:
			return fmt.Sprintf("c%d write %d", in.Client, in.Token)
		}
		return fmt.Sprintf("c%d release", in.Client)
	},
}

// resource refuses writes with a token older than the newest it took.
type resource struct {
	mu  gosync.Mutex
	max uint64
}

func (r *resource) write(token uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if token < r.max {
		return false
	}
	r.max = token
	return true
}

func (s suite) linearizable(t *testing.T) {
	const clients = 8
	ttl := s.ttl()
	dur := 3 * s.expiry()
	ctx := ctxT(t, dur+3*s.expiry()+time.Minute)
	n := name(t)
	start := time.Now()
	stamp := func() int64 { return int64(time.Since(start)) }
	var mu gosync.Mutex
	var ops []porcupine.Operation
	record := func(op porcupine.Operation) {
		mu.Lock()
		ops = append(ops, op)
		mu.Unlock()
	}
	var res resource
	var fenced, paused int
	var wg gosync.WaitGroup
	for i := 0; i < clients; i++ {
		c, f := s.client(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; time.Since(start) < dur; round++ {
				call := stamp()
				l, err := c.Lock(ctx, n)
				if err != nil {
					t.Errorf("c%d: Lock: %v", i, err)
					return
				}
				record(porcupine.Operation{ClientId: i, Input: lockIn{Kind: opAcquire, Client: i}, Call: call, Output: lockOut{Token: l.Token()}, Return: stamp()})
				// Clients 0-2 freeze on every other round, from their first: their renewals
				// stall until the lease is lost, and they keep writing
				// for as long as they believe they hold it.
				freeze := i < 3 && round%2 == 0
				if freeze {
					f.PauseRenewals()
				}
				lastHeld := stamp()
				for w := 0; ; w++ {
					call := stamp()
					if l.Err() != nil {
						break
					}
					// Every write made while the client believes it holds the
					// lock is in the history, accepted or not: a stale holder
					// still writing after another acquired breaks the model
					// even when the resource's fencing refuses it.
					accepted := res.write(l.Token())
					lastHeld = stamp()
					record(porcupine.Operation{ClientId: i, Input: lockIn{Kind: opWrite, Client: i, Token: l.Token()}, Call: call, Return: lastHeld})
					if !accepted {
						mu.Lock()
						fenced++
						mu.Unlock()
						break
					}
					if !freeze && w == 3 {
						break
					}
					time.Sleep(ttl / 20) // the work between writes
				}
				if freeze {
					<-l.Done()
					f.Resume()
					mu.Lock()
					paused++
					mu.Unlock()
				}
				call = stamp()
				err = l.Unlock(ctx)
				ret := stamp()
				if err != nil {
					t.Errorf("c%d: Unlock: %v", i, err)
				}
				if errors.Is(l.Err(), ossync.ErrLost) {
					// Lost: its end lies somewhere after its last write.
					call, ret = lastHeld, math.MaxInt64
				}
				record(porcupine.Operation{ClientId: i, Input: lockIn{Kind: opRelease, Client: i}, Call: call, Return: ret})
			}
		}()
	}
	wg.Wait()
	res2, info := porcupine.CheckOperationsVerbose(fencedLock, ops, time.Minute)
	if res2 != porcupine.Ok {
		t.Logf("porcupine: %d partial linearizations", len(info.PartialLinearizations()))
		t.Fatalf("history of %d operations from %d clients is %v: two clients held the lock at once", len(ops), clients, res2)
	}
	if paused == 0 {
		t.Fatalf("no lease was lost by a paused client: the check proved little")
	}
	t.Logf("%d operations from %d clients, %d leases lost while paused, %d stale writes fenced off: linearizable", len(ops), clients, paused, fenced)
}
