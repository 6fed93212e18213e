package synctest

import (
	"math"
	"testing"

	"github.com/anishathalye/porcupine"
)

// The model must be able to fail: a history where a second client
// acquires and writes while the first, whose hold was lost, still writes
// afterwards is not linearizable; the same without the late write is.
func TestModelRejectsOverlappingHolds(t *testing.T) {
	op := func(c int, in lockIn, out any, call, ret int64) porcupine.Operation {
		return porcupine.Operation{ClientId: c, Input: in, Output: out, Call: call, Return: ret}
	}
	good := []porcupine.Operation{
		op(0, lockIn{Kind: opAcquire, Client: 0}, lockOut{Token: 1}, 0, 1),
		op(0, lockIn{Kind: opWrite, Client: 0, Token: 1}, nil, 2, 3),
		op(0, lockIn{Kind: opRelease, Client: 0}, nil, 3, math.MaxInt64), // lost
		op(1, lockIn{Kind: opAcquire, Client: 1}, lockOut{Token: 2}, 1, 5),
		op(1, lockIn{Kind: opWrite, Client: 1, Token: 2}, nil, 6, 7),
	}
	if !porcupine.CheckOperations(fencedLock, good) {
		t.Fatal("a correct history was refused")
	}
	late := append(good[:len(good):len(good)], op(0, lockIn{Kind: opWrite, Client: 0, Token: 1}, nil, 8, 9))
	late[2] = op(0, lockIn{Kind: opRelease, Client: 0}, nil, 9, math.MaxInt64)
	if porcupine.CheckOperations(fencedLock, late) {
		t.Fatal("a write by a lost holder after another acquired was accepted")
	}
	reused := append(good[:3:3], op(1, lockIn{Kind: opAcquire, Client: 1}, lockOut{Token: 1}, 1, 5))
	if porcupine.CheckOperations(fencedLock, reused) {
		t.Fatal("a token given twice was accepted")
	}
}
