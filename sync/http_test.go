package sync_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	ossync "github.com/microos/go-os/sync"
)

func TestLeaderOnly(t *testing.T) {
	ctx := context.Background()
	m := ossync.NewMemoryBackend(nil)
	a, b := ossync.New(m), ossync.New(m)
	defer a.Close()
	defer b.Close()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("served")) })
	ha, hb := ossync.LeaderOnly(a, "cron")(ok), ossync.LeaderOnly(b, "cron")(ok)
	get := func(h http.Handler) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/run", nil))
		return w
	}
	if w := get(ha); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("no leader yet: %d", w.Code)
	}
	ld, err := a.Campaign(ctx, "cron", "10.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	if w := get(ha); w.Code != 200 || w.Body.String() != "served" {
		t.Fatalf("leader: %d %q", w.Code, w.Body)
	}
	w := get(hb)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get(ossync.LeaderHeader) != "10.0.0.1:8080" {
		t.Fatalf("follower: %d leader %q", w.Code, w.Header().Get(ossync.LeaderHeader))
	}
	ld.Resign(ctx)
	if w := get(ha); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("after Resign: %d", w.Code)
	}
}
