package consuldiscovery_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/discovery/discoverytest"
	"github.com/microos/go-os/internal/testenv"
)

// TestACLToken runs an agent with ACLs on (default deny): the URL's token
// opens the door, and a missing or unknown token is ErrForbidden, not a
// retryable ErrUnavailable.
func TestACLToken(t *testing.T) {
	testenv.Consul(t) // the real-backend tests run together
	a := newAgent(t)
	const root = "6c0b1d7e-5c3a-4f7e-9f1a-0d7c2b9e4a11"
	a.extra = []string{"-hcl", `acl { enabled = true default_policy = "deny" tokens { initial_management = "` + root + `" agent = "` + root + `" } }`}
	a.start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	name := discoverytest.Name(t)
	svc := &discovery.Service{Name: name, Nodes: []*discovery.Node{{ID: name + "-1", Address: "10.0.0.1", Port: 80}}}
	authorized, err := discovery.Open(ctx, "consul://"+a.addr()+"?token="+root)
	if err != nil {
		t.Fatal(err)
	}
	defer authorized.Close()
	// The agent may take a moment to accept the management token.
	for {
		err = authorized.Register(ctx, svc, discovery.WithTTL(10*time.Second))
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("Register with the management token: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got, err := authorized.GetService(ctx, name); err != nil || len(got) != 1 {
		t.Fatalf("GetService with the token = %v, %v", got, err)
	}

	for _, url := range []string{"consul://" + a.addr(), "consul://" + a.addr() + "?token=00000000-0000-0000-0000-000000000000"} {
		anonymous, err := discovery.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		err = anonymous.Register(ctx, svc)
		anonymous.Close()
		if !errors.Is(err, discovery.ErrForbidden) || errors.Is(err, discovery.ErrUnavailable) {
			t.Errorf("Register via %s = %v, want ErrForbidden", url, err)
		}
	}
}
