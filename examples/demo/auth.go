package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/auth/oauth2auth"
)

// authURLs names the authorization server: "mem://", an in-process issuer,
// or an OpenID provider's issuer URL with two of its clients: the
// gateway's, which may use both scopes, and one that may not count.
type authURLs struct {
	issuer, audience string
	gateway, limited string // "id:secret"
}

// authSetup is what the services need from auth: a verifier for every
// server, token sources for the gateway and for the intruder, and the
// scopes the policy asks of the greeter's and the counter's callers.
type authSetup struct {
	verify            auth.Verifier
	gateway, intruder *auth.TokenSource
	greet, count      string
	close             func() error
}

func openAuth(ctx context.Context, a authURLs) (*authSetup, error) {
	if a.issuer == "" || strings.HasPrefix(a.issuer, "mem:") {
		return memoryAuth(), nil
	}
	// A real provider: its clients and scopes are its own. The gateway's
	// client may read and write; the limited one only read.
	gwID, gwSecret, ok1 := strings.Cut(a.gateway, ":")
	lmID, lmSecret, ok2 := strings.Cut(a.limited, ":")
	if !ok1 || !ok2 || a.audience == "" {
		return nil, errors.New("-auth URL needs -auth-audience, -auth-client id:secret and -auth-limited id:secret")
	}
	s := &authSetup{greet: "read", count: "write"}
	gw, err := oauth2auth.New(ctx, oauth2auth.Config{Issuer: a.issuer, ClientID: gwID, ClientSecret: gwSecret,
		Audience: a.audience, Scopes: []string{s.greet, s.count}})
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	lm, err := oauth2auth.New(ctx, oauth2auth.Config{Issuer: a.issuer, ClientID: lmID, ClientSecret: lmSecret,
		Audience: a.audience, Scopes: []string{s.greet}})
	if err != nil {
		gw.Close()
		return nil, fmt.Errorf("auth: %w", err)
	}
	s.verify, s.gateway, s.intruder = gw.Verifier, gw.Source, lm.Source
	s.close = func() error { return errors.Join(gw.Close(), lm.Close()) }
	return s, nil
}

// memoryAuth is an in-process authorization server: the gateway's client
// has both scopes, the intruder's none.
func memoryAuth() *authSetup {
	s := &authSetup{greet: "greeter.greet", count: "counter.count"}
	iss := auth.NewMemoryIssuer()
	iss.AddClient("gateway", "gateway-secret", s.greet, s.count)
	iss.AddClient("intruder", "intruder-secret")
	tr := &http.Transport{}
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	jwt := auth.NewJWTVerifier(iss.URL(), auth.WithHTTPClient(c), auth.WithAudience("demo"))
	tokens := func(id, secret string, scopes ...string) *auth.TokenSource {
		return auth.NewTokenSource(iss.URL()+"/token", id, secret, scopes, auth.WithHTTPClient(c), auth.WithAudience("demo"))
	}
	s.verify, s.gateway, s.intruder = jwt, tokens("gateway", "gateway-secret", s.greet, s.count), tokens("intruder", "intruder-secret")
	s.close = func() error {
		err := errors.Join(s.gateway.Close(), s.intruder.Close(), jwt.Close())
		tr.CloseIdleConnections()
		iss.Close()
		return err
	}
	return s
}
