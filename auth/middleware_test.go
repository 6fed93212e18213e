package auth_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/config"
)

func TestPolicy(t *testing.T) {
	p, err := auth.NewPolicy(auth.PolicyConfig{Rules: []auth.Rule{
		{Route: "/admin/*", Deny: true},
		{Method: "GET", Route: "/orders/*", Scopes: []string{"read"}},
		{Method: "POST", Route: "/orders/*", Scopes: []string{"write"}},
		{Service: "billing", Method: "/billing.Billing/*", Roles: []string{"finance", "admin"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	reader := &auth.Claims{Scopes: []string{"read"}}
	writer := &auth.Claims{Scopes: []string{"read", "write"}, Roles: []string{"finance"}}
	cases := []struct {
		req    auth.Request
		c      *auth.Claims
		allow  bool
		reason string
	}{
		{auth.Request{Method: "GET", Route: "/orders/{id}"}, reader, true, "rule 1 allows"},
		{auth.Request{Method: "POST", Route: "/orders/{id}"}, reader, false, `rule 2: scope "write" missing`},
		{auth.Request{Method: "POST", Route: "/orders/{id}"}, writer, true, "rule 2 allows"},
		{auth.Request{Method: "GET", Route: "/admin/users"}, writer, false, "rule 0 denies GET /admin/users"},
		{auth.Request{Service: "billing", Method: "/billing.Billing/Charge"}, writer, true, "rule 3 allows"},
		{auth.Request{Service: "billing", Method: "/billing.Billing/Charge"}, reader, false, `rule 3: none of roles ["finance" "admin"]`},
		{auth.Request{Method: "GET", Route: "/other"}, writer, false, "no rule matched: default deny"},
	}
	for _, c := range cases {
		d := p.Decide(c.req, c.c)
		if d.Allow != c.allow || d.Reason != c.reason {
			t.Errorf("%+v: %+v, want allow=%v %q", c.req, d, c.allow, c.reason)
		}
	}
	if err := p.Update(auth.PolicyConfig{Default: "maybe"}); err == nil {
		t.Fatal("bad default accepted")
	}
}

func TestPolicyFromConfig(t *testing.T) {
	ctx := context.Background()
	mem := config.NewMemory(map[string]any{"auth": map[string]any{"policy": map[string]any{
		"default": "deny",
		"rules":   []any{map[string]any{"route": "/x", "scopes": []any{"read"}}},
	}}})
	cfg, err := config.New(ctx, []config.Source{mem})
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	p, stop, err := auth.LoadPolicy(cfg, nil, "auth", "policy")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	c := &auth.Claims{Scopes: []string{"read"}}
	if d := p.Decide(auth.Request{Route: "/x"}, c); !d.Allow {
		t.Fatalf("before reload: %+v", d)
	}
	if err := mem.SetValue([]any{map[string]any{"route": "/x", "scopes": []any{"write"}}}, "auth", "policy", "rules"); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if d := p.Decide(auth.Request{Route: "/x"}, c); d.Allow || d.Reason != `rule 0: scope "write" missing` {
		t.Fatalf("after reload: %+v", d)
	}
}

func TestMiddleware(t *testing.T) {
	iss := auth.NewMemoryIssuer()
	defer iss.Close()
	v := auth.NewJWTVerifier(iss.URL(), auth.WithAudience(aud))
	p, _ := auth.NewPolicy(auth.PolicyConfig{Rules: []auth.Rule{{Route: "/orders/*", Scopes: []string{"read"}}}})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+auth.ClaimsFrom(r.Context()).Subject)
	})
	srv := httptest.NewServer(auth.Middleware(v, p, auth.WithRealm("orders"))(mux))
	defer srv.Close()
	good := iss.Mint(auth.Token{Subject: "svc-a", Scopes: []string{"read"}, Audience: []string{aud}})
	noScope := iss.Mint(auth.Token{Subject: "svc-b", Audience: []string{aud}})
	cases := []struct {
		name, auth, query string
		status            int
		challenge, body   string
	}{
		{"good", "Bearer " + good, "", 200, "", "hello svc-a"},
		{"missing", "", "", 401, `Bearer realm="orders"`, ""},
		{"basic", "Basic Zm9vOmJhcg==", "", 401, `Bearer realm="orders"`, ""},
		{"invalid", "Bearer " + good[:len(good)-4], "", 401, `Bearer realm="orders", error="invalid_token", error_description="bad signature"`, ""},
		{"scope", "Bearer " + noScope, "", 403, `Bearer realm="orders", error="insufficient_scope", error_description="rule 0: scope 'read' missing"`, ""},
		{"query token refused", "", "?access_token=" + good, 400, `Bearer realm="orders", error="invalid_request", error_description="token in query string refused"`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/orders/7"+c.query, nil)
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || resp.Header.Get("WWW-Authenticate") != c.challenge || (c.body != "" && string(b) != c.body) {
				t.Fatalf("status %d, challenge %q, body %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), b)
			}
		})
	}
	// Enabled, a query-string token is accepted.
	srv2 := httptest.NewServer(auth.Middleware(v, p, auth.WithQueryToken(true))(mux))
	defer srv2.Close()
	resp, err := http.Get(srv2.URL + "/orders/7?access_token=" + good)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "hello") {
		t.Fatalf("query token enabled: %d %q", resp.StatusCode, b)
	}
	// Issuer down: 503, fail closed (a verifier that never fetched keys).
	v2 := auth.NewJWTVerifier(iss.URL(), auth.WithAudience(aud))
	iss.Close()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/orders/7", nil)
	req.Header.Set("Authorization", "Bearer "+good)
	auth.Middleware(v2, p)(mux).ServeHTTP(rec, req)
	if rec.Code != 503 {
		t.Fatalf("issuer down: %d", rec.Code)
	}
	http.DefaultClient.CloseIdleConnections()
}
