package outbox_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"

	"github.com/microos/go-os/event"
	"github.com/microos/go-os/event/outbox"
)

// A business write and its event in one transaction; the relay publishes
// the event once the transaction commits. It needs a PostgreSQL URL in
// TEST_POSTGRES_URL.
func Example() {
	ctx := context.Background()
	db, err := sql.Open("pgx", os.Getenv("TEST_POSTGRES_URL"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	bus := event.NewMemory(event.WithService("billing", "1.0.0", "billing-1"))
	defer bus.Close()
	if err := outbox.Migrate(ctx, db, outbox.WithTable("example_outbox")); err != nil {
		fmt.Println(err)
		return
	}
	ob := outbox.New(db, bus, outbox.WithTable("example_outbox"))
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- ob.Run(rctx) }()
	defer func() { stop(); <-done }()

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tx.Rollback()
	// ... the business write: tx.ExecContext(ctx, "UPDATE orders ...") ...
	if err := ob.Add(ctx, tx, event.Record{Type: "order.paid", Data: []byte(`{"order":42}`)}); err != nil {
		fmt.Println(err)
		return
	}
	if err := tx.Commit(); err != nil {
		fmt.Println(err)
	}
}
