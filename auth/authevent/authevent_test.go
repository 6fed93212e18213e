package authevent_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/auth/authevent"
	"github.com/microos/go-os/event"
	_ "github.com/microos/go-os/event/redisevent"
	"github.com/microos/go-os/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// instance is one service instance: its own introspection cache, its own
// Bus on the shared backend, subscribed to revocations.
type instance struct {
	v   *auth.IntrospectionVerifier
	r   *auth.Revoker
	bus *event.Bus
}

func newInstance(t *testing.T, ctx context.Context, iss *auth.MemoryIssuer, bus *event.Bus) *instance {
	cl := auth.WithClient("rs", "rs-secret")
	in := &instance{v: auth.NewIntrospectionVerifier(iss.URL(), cl), bus: bus}
	in.r = auth.NewRevoker(iss.URL(), []*auth.IntrospectionVerifier{in.v}, cl, auth.WithRevokeNotify(authevent.Notify(bus)))
	sub, err := authevent.Subscribe(ctx, bus, in.v)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Stop(); in.r.Close(); in.v.Close() })
	return in
}

// run revokes a token on instance a of three and waits for b and c to
// drop it from their caches; it returns how long that took after Revoke
// returned.
func run(t *testing.T, buses [3]*event.Bus) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iss := auth.NewMemoryIssuer()
	defer iss.Close()
	iss.AddClient("rs", "rs-secret")
	var ins [3]*instance
	for i := range ins {
		ins[i] = newInstance(t, ctx, iss, buses[i])
	}
	tok := iss.MintOpaque(auth.Token{Subject: "svc"})
	other := iss.MintOpaque(auth.Token{Subject: "svc2"})
	for _, in := range ins {
		for _, tk := range []string{tok, other} {
			if _, err := in.v.Verify(ctx, tk); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := ins[0].r.Revoke(ctx, tok, "access_token"); err != nil {
		t.Fatal(err)
	}
	done := time.Now()
	if ins[0].v.Cached(tok) {
		t.Fatal("the revoking instance still caches the token")
	}
	for !(!ins[1].v.Cached(tok) && !ins[2].v.Cached(tok)) {
		if ctx.Err() != nil {
			t.Fatal("the other instances still cache the revoked token")
		}
		time.Sleep(time.Millisecond) // polling the caches, nothing else to wait on
	}
	lat := time.Since(done)
	for i, in := range ins {
		if _, err := in.v.Verify(ctx, tok); !errors.Is(err, auth.ErrInactive) {
			t.Fatalf("instance %d: revoked token: %v", i, err)
		}
		if !in.v.Cached(other) {
			t.Fatalf("instance %d dropped a token that was not revoked", i)
		}
	}
	return lat
}

func TestRevocationAcrossInstancesMemory(t *testing.T) {
	bus := event.NewMemory()
	defer bus.Close()
	t.Logf("mem://: other instances dropped the token %v after Revoke returned", run(t, [3]*event.Bus{bus, bus, bus}))
}

func TestRevocationAcrossInstancesRedis(t *testing.T) {
	addr := testenv.Redis(t)
	b := make([]byte, 6)
	rand.Read(b)
	u := "redis://" + addr + "/0?prefix=authevent-test-" + hex.EncodeToString(b) + ":"
	var buses [3]*event.Bus
	for i := range buses {
		bus, err := event.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		defer bus.Close()
		buses[i] = bus
	}
	t.Logf("redis (three Buses): other instances dropped the token %v after Revoke returned", run(t, buses))
}

// A token is never on the bus: only its hash.
func TestRecordCarriesHashOnly(t *testing.T) {
	ctx := context.Background()
	bus := event.NewMemory()
	defer bus.Close()
	if err := authevent.Notify(bus)(ctx, auth.TokenHash("secret-token")); err != nil {
		t.Fatal(err)
	}
	recs, _, err := bus.Read(ctx, event.Query{Types: []string{authevent.Type}})
	if err != nil || len(recs) != 1 {
		t.Fatalf("Read = %v, %v", recs, err)
	}
	r, err := event.Decode[authevent.Revoked](recs[0])
	if err != nil || r.TokenHash != auth.TokenHash("secret-token") || string(recs[0].Data) == "" {
		t.Fatalf("record %+v %v", r, err)
	}
	if strings.Contains(string(recs[0].Data), "secret-token") {
		t.Fatalf("record data %q carries the token", recs[0].Data)
	}
}
