package auth_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/oserr"
)

func TestOpenMemory(t *testing.T) {
	ctx := context.Background()
	a, err := auth.Open(ctx, "mem://?client_id=orders&scope=read,write&audience="+aud)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var iss *auth.MemoryIssuer
	if !a.As(&iss) {
		t.Fatal("As(*MemoryIssuer) = false")
	}
	tok, err := a.Source.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Verifier.Verify(ctx, tok.AccessToken)
	if err != nil || c.ClientID != "orders" || !c.HasScope("write") || c.Audience[0] != aud {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
	// An opaque token of the same issuer goes to introspection.
	ot := iss.MintOpaque(auth.Token{Subject: "x", Audience: []string{aud}})
	if _, err := a.Verifier.Verify(ctx, ot); err != nil || a.Introspection.Introspections() != 1 {
		t.Fatalf("opaque: %v (%d introspections)", err, a.Introspection.Introspections())
	}
	if err := a.Revoker.Revoke(ctx, ot, "access_token"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Verifier.Verify(ctx, ot); !errors.Is(err, auth.ErrInactive) {
		t.Fatalf("revoked: %v", err)
	}
	if err := a.Check(ctx); err != nil {
		t.Fatal(err)
	}

	v, err := auth.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if v.Source != nil || v.Introspection != nil || v.Revoker != nil || v.JWT == nil {
		t.Fatalf("mem:// without a client: %+v", v)
	}
}

func TestOpenRefuses(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("s3cret\n"), 0o600)
	t.Setenv("AUTH_OPEN_SECRET", "s3cret")
	for _, u := range []string{
		"mem://?client_id=a&tenant=x",
		"mem://?client_id=a&client_secret=s3cret",
		"mem://a:s3cret@",
		"mem://host",
		"mem://?client_id=a&client_id=b",
		"mem://?client_secret_env=AUTH_OPEN_SECRET&client_secret_file=" + secret,
		"mem://?client_id=a&client_secret_env=AUTH_OPEN_UNSET",
		"mem://?client_id=a&client_secret_file=/nonexistent/secret",
		"nope://issuer",
	} {
		a, err := auth.Open(context.Background(), u)
		if err == nil {
			a.Close()
			t.Errorf("Open(%q) accepted", u)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q): the error repeats the secret: %v", u, err)
		}
		if !strings.HasPrefix(u, "nope") && oserr.Code(err) != oserr.Invalid {
			t.Errorf("Open(%q) = %v, want class Invalid", u, err)
		}
	}
}

func TestConfigFromURL(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("from-file\n"), 0o600)
	t.Setenv("AUTH_OPEN_SECRET", "from-env")
	cases := []struct {
		url  string
		want auth.Config
		err  bool
	}{
		{"https://issuer.example/realms/x/?client_id=svc&client_secret_file=" + secret + "&audience=https://api&scope=read+write",
			auth.Config{Issuer: "https://issuer.example/realms/x", ClientID: "svc", ClientSecret: "from-file", Audience: "https://api", Scopes: []string{"read", "write"}}, false},
		{"http://127.0.0.1:9/?client_id=svc&client_secret_env=AUTH_OPEN_SECRET",
			auth.Config{Issuer: "http://127.0.0.1:9", ClientID: "svc", ClientSecret: "from-env"}, false},
		{"https://issuer.example", auth.Config{Issuer: "https://issuer.example"}, false},
		{"http://issuer.example/?client_id=svc&client_secret_env=AUTH_OPEN_SECRET", auth.Config{}, true}, // plaintext off loopback
		{"https://issuer.example/?client_id=svc", auth.Config{}, true},                                   // no secret
		{"https://issuer.example/#frag", auth.Config{}, true},
	}
	for _, c := range cases {
		u, _ := url.Parse(c.url)
		got, err := auth.ConfigFromURL(u)
		if (err != nil) != c.err {
			t.Errorf("%s: err %v", c.url, err)
			continue
		}
		if !c.err && (got.Issuer != c.want.Issuer || got.ClientID != c.want.ClientID || got.ClientSecret != c.want.ClientSecret || got.Audience != c.want.Audience || strings.Join(got.Scopes, " ") != strings.Join(c.want.Scopes, " ")) {
			t.Errorf("%s: %+v, want %+v", c.url, got, c.want)
		}
	}
}
