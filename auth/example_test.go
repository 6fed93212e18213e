package auth_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/microos/go-os/auth"
)

func ExampleMemoryIssuer() {
	iss := auth.NewMemoryIssuer()
	defer iss.Close()
	v := auth.NewJWTVerifier(iss.URL(), auth.WithAudience("https://orders"))
	tok := iss.Mint(auth.Token{Subject: "billing", Scopes: []string{"orders.read"}, Audience: []string{"https://orders"}})
	c, err := v.Verify(context.Background(), tok)
	fmt.Println(c.Subject, c.Scopes, err)
	_, err = v.Verify(context.Background(), tok[:len(tok)-3])
	fmt.Println(errors.Is(err, auth.ErrSignature), errors.Is(err, auth.ErrInvalidToken))
	// Output:
	// billing [orders.read] <nil>
	// true true
}

func ExampleOpen() {
	ctx := context.Background()
	a, err := auth.Open(ctx, "mem://?client_id=billing&scope=orders.read&audience=https://orders")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	tok, _ := a.Source.Token(ctx) // client credentials at the memory issuer
	c, err := a.Verifier.Verify(ctx, tok.AccessToken)
	fmt.Println(c.ClientID, c.Scopes, c.Audience, err)

	p, _ := auth.NewPolicy(auth.PolicyConfig{Rules: []auth.Rule{
		{Method: "GET", Route: "/orders/*", Scopes: []string{"orders.read"}},
		{Method: "POST", Route: "/orders/*", Scopes: []string{"orders.write"}},
	}})
	fmt.Println(p.Decide(auth.Request{Method: "GET", Route: "/orders/{id}"}, c).Reason)
	fmt.Println(p.Decide(auth.Request{Method: "POST", Route: "/orders/{id}"}, c).Reason)

	_, err = auth.Open(ctx, "mem://?client_id=billing&client_secret=hunter2")
	fmt.Println(err)
	// Output:
	// billing [orders.read] [https://orders] <nil>
	// rule 0 allows
	// rule 1: scope "orders.write" missing
	// auth: invalid argument: open: client_secret in the URL would be logged with it: use client_secret_env or client_secret_file
}
