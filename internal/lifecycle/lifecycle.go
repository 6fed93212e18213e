// Package lifecycle holds the one rule for Close and Shutdown that every
// go-os type follows: Shutdown(ctx) flushes and stops within ctx; Close()
// is Shutdown bounded by CloseTimeout, so that a Close against a backend
// that hangs cannot wait for minutes. Both are idempotent.
package lifecycle

import (
	"context"
	"time"
)

// CloseTimeout bounds Close: what is not flushed by then is counted as
// dropped by the type that buffered it.
const CloseTimeout = 5 * time.Second

// Close calls shutdown with a context that ends after CloseTimeout.
func Close(shutdown func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), CloseTimeout)
	defer cancel()
	return shutdown(ctx)
}
