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
