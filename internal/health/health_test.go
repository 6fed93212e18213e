package health

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/microos/go-os/oserr"
)

var errDown = oserr.New(oserr.Unavailable, "pkg: backend unavailable")

func TestTracker(t *testing.T) {
	now := time.Unix(1000, 0)
	tr := &Tracker{Now: func() time.Time { return now }}
	ctx := context.Background()
	if err := tr.Check(ctx, errDown); err != nil {
		t.Fatalf("new tracker: %v", err)
	}
	refused := errors.New("dial tcp: connection refused")
	tr.Observe(refused)
	now = now.Add(2 * time.Second)
	tr.Failure(refused)
	now = now.Add(time.Second)
	err := tr.Check(ctx, errDown)
	if !errors.Is(err, errDown) || !errors.Is(err, refused) || oserr.Code(err) != oserr.Unavailable {
		t.Fatalf("Check = %v, want the sentinel and the last failure", err)
	}
	var he *Error
	if !errors.As(err, &he) || he.Age != time.Second || !he.Since.Equal(time.Unix(1000, 0)) {
		t.Fatalf("Check = %#v, want age 1s since the first failure", he)
	}
	if !strings.Contains(err.Error(), "last failure 1s ago") {
		t.Errorf("message %q does not say the age", err)
	}
	tr.Observe(nil)
	if err := tr.Check(ctx, errDown); err != nil {
		t.Fatalf("after a success: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := tr.Check(cctx, errDown); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
}

func BenchmarkSuccess(b *testing.B) {
	var tr Tracker
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tr.Success()
		}
	})
}
