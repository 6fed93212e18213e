package sync_test

import (
	"context"
	"errors"
	"fmt"

	ossync "github.com/microos/go-os/sync"
)

func Example() {
	ctx := context.Background()
	c := ossync.NewMemory()
	defer c.Close()

	l, err := c.Lock(ctx, "billing/nightly")
	if err != nil {
		panic(err)
	}
	fmt.Println("token", l.Token())

	_, err = c.TryLock(ctx, "billing/nightly")
	fmt.Println("second holder:", errors.Is(err, ossync.ErrLocked))

	l.Unlock(ctx)
	l2, _ := c.TryLock(ctx, "billing/nightly")
	fmt.Println("next token", l2.Token())
	// Output:
	// token 1
	// second holder: true
	// next token 2
}

func ExampleClient_Campaign() {
	ctx := context.Background()
	m := ossync.NewMemoryBackend(nil) // shared, as instances share a Redis
	a, b := ossync.New(m), ossync.New(m)
	defer a.Close()
	defer b.Close()

	ld, _ := a.Campaign(ctx, "scheduler", "instance-a")
	leader, _ := b.Leader(ctx, "scheduler")
	fmt.Println("leader:", leader.Candidate)

	ld.Resign(ctx)
	ldb, _ := b.Campaign(ctx, "scheduler", "instance-b")
	leader, _ = a.Leader(ctx, "scheduler")
	fmt.Println("leader:", leader.Candidate, "newer token:", ldb.Token() > ld.Token())
	// Output:
	// leader: instance-a
	// leader: instance-b newer token: true
}
