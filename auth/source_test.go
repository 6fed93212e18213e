package auth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/internal/fakeclock"
)

func newSource(t testing.TB, ttl time.Duration, opts ...auth.Option) (*auth.MemoryIssuer, *auth.TokenSource) {
	t.Helper()
	iss := auth.NewMemoryIssuer()
	t.Cleanup(iss.Close)
	iss.TokenTTL = ttl
	iss.AddClient("svc", "svc-secret", "read", "write")
	src := auth.NewTokenSource(iss.URL()+"/token", "svc", "svc-secret", []string{"read"}, append([]auth.Option{auth.WithAudience(aud)}, opts...)...)
	t.Cleanup(func() { src.Close() })
	return iss, src
}

// waitFor polls cond (a background fetch has no other signal to wait on).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestTokenSourceCachedAndRefreshed(t *testing.T) {
	clk := fakeclock.New(time.Now())
	iss, src := newSource(t, 100*time.Second, auth.WithClock(clk.Now))
	ctx := context.Background()
	var wg sync.WaitGroup
	toks := make([]string, 100)
	for i := range 100 {
		wg.Go(func() {
			tok, err := src.Token(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			toks[i] = tok.AccessToken
		})
	}
	wg.Wait()
	if n := iss.TokenRequests.Load(); n != 1 {
		t.Fatalf("100 concurrent Token calls: %d fetches at the issuer, want 1", n)
	}
	first := toks[0]
	v := auth.NewJWTVerifier(iss.URL(), auth.WithAudience(aud), auth.WithClock(clk.Now))
	if c, err := v.Verify(ctx, first); err != nil || c.ClientID != "svc" || !c.HasScope("read") {
		t.Fatalf("issued token: %+v %v", c, err)
	}
	clk.Advance(69 * time.Second) // before the refresh window (70–80%)
	if tok, _ := src.Token(ctx); tok.AccessToken != first || iss.TokenRequests.Load() != 1 {
		t.Fatal("refreshed too early")
	}
	clk.Advance(12 * time.Second) // in the window, token still valid: served at once, refreshed behind
	if tok, err := src.Token(ctx); err != nil || tok.AccessToken != first {
		t.Fatalf("in the refresh window: %v", err)
	}
	waitFor(t, "background refresh", func() bool {
		tok, _ := src.Token(ctx)
		return tok != nil && tok.AccessToken != first
	})
	if n := iss.TokenRequests.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
}

func TestTokenSourceEndpointDown(t *testing.T) {
	clk := fakeclock.New(time.Now())
	iss, src := newSource(t, 100*time.Second, auth.WithClock(clk.Now))
	ctx := context.Background()
	tok, err := src.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	iss.FailTokens.Store(true)
	clk.Advance(85 * time.Second)
	for range 3 { // due for refresh, endpoint down: the last valid token
		got, err := src.Token(ctx)
		if err != nil || got.AccessToken != tok.AccessToken {
			t.Fatalf("last valid token not used while down: %v", err)
		}
	}
	waitFor(t, "failed refresh", func() bool { return src.Check(ctx) != nil })
	if err := src.Check(ctx); !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("Check = %v", err)
	}
	clk.Advance(20 * time.Second) // expired
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = src.Token(dctx)
	if !errors.Is(err, auth.ErrUnavailable) || dctx.Err() != nil {
		t.Fatalf("expired and endpoint down: %v (ctx %v), want ErrUnavailable before the deadline", err, dctx.Err())
	}
	iss.FailTokens.Store(false)
	clk.Advance(3 * time.Second) // past the retry backoff
	if got, err := src.Token(ctx); err != nil || got.AccessToken == tok.AccessToken {
		t.Fatalf("after recovery: %v", err)
	}
	if err := src.Check(ctx); err != nil {
		t.Fatalf("Check after recovery: %v", err)
	}
}

func TestTransport(t *testing.T) {
	iss, src := newSource(t, time.Hour)
	v := auth.NewJWTVerifier(iss.URL(), auth.WithAudience(aud))
	var mu sync.Mutex
	var rejectOnce string // the first token seen is answered 401 once
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		first := rejectOnce == ""
		if first {
			rejectOnce = tok
		}
		mu.Unlock()
		if _, err := v.Verify(r.Context(), tok); err != nil || first {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	client := &http.Client{Transport: auth.Transport(nil, src)}
	resp, err := client.Post(srv.URL, "text/plain", strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d, want 200 after one retry with a fresh token", resp.StatusCode)
	}
	if len(bodies) != 2 || bodies[1] != "payload" || iss.TokenRequests.Load() != 2 {
		t.Fatalf("bodies %q, token fetches %d", bodies, iss.TokenRequests.Load())
	}
	// A body that cannot be replayed is not retried.
	mu.Lock()
	rejectOnce = ""
	mu.Unlock()
	req, _ := http.NewRequest("POST", srv.URL, io.NopCloser(strings.NewReader("once")))
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || len(bodies) != 3 {
		t.Fatalf("non-replayable: status %d, %d requests", resp.StatusCode, len(bodies))
	}
	client.CloseIdleConnections()
}

// A server that refuses every token: each call is retried once, but the
// token endpoint sees at most one extra fetch per invalidation interval,
// not one per call.
func TestTransportRefusedEverywhereNoFetchStorm(t *testing.T) {
	clk := fakeclock.New(time.Now())
	iss, src := newSource(t, time.Hour, auth.WithClock(clk.Now))
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	client := &http.Client{Transport: auth.Transport(nil, src)}
	defer client.CloseIdleConnections()
	for range 50 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if n := iss.TokenRequests.Load(); n != 2 {
		t.Fatalf("%d token fetches for 50 refused calls, want 2 (the first, one fresh)", n)
	}
	clk.Advance(6 * time.Second)
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := iss.TokenRequests.Load(); n != 3 {
		t.Fatalf("%d token fetches after the interval, want 3", n)
	}
	if calls.Load() < 51 {
		t.Fatalf("%d calls reached the server", calls.Load())
	}
}

type nopRT struct{}

func (nopRT) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
}

// BenchmarkTransportOverhead: Transport with a cached token over a base
// that does nothing, against the base alone.
func BenchmarkTransportOverhead(b *testing.B) {
	_, src := newSource(b, time.Hour)
	if _, err := src.Token(context.Background()); err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://svc.test/x", nil)
	b.Run("base", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			nopRT{}.RoundTrip(req)
		}
	})
	b.Run("auth.Transport", func(b *testing.B) {
		rt := auth.Transport(nopRT{}, src)
		b.ReportAllocs()
		for b.Loop() {
			rt.RoundTrip(req)
		}
	})
}
