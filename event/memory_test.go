package event_test

import (
	"testing"

	"github.com/microos/go-os/event"
	"github.com/microos/go-os/event/eventtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMemory(t *testing.T) {
	eventtest.Run(t, func(t *testing.T) *event.Bus {
		b := event.NewMemory(event.WithService("orders", "1.0", "i-1"))
		t.Cleanup(func() { b.Close() })
		return b
	})
}
