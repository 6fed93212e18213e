package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/monitor"
)

// The status page in real headless Chromium: it loads, shows live data,
// follows a check's state change without a reload, and logs no JS errors.
func TestStatusPageInChromium(t *testing.T) {
	bin := testenv.Chromium(t)

	met := metrics.NewMemory()
	var fail atomic.Bool
	m := monitor.New(monitor.WithService("orders", "v1.2.3", "orders-1"), monitor.WithMetrics(met),
		monitor.WithSection("router", func() any { return map[string]any{"nodes": []string{"10.0.0.1:80", "10.0.0.2:80"}} }))
	defer m.Close()
	m.Add("db", func(context.Context) error {
		if fail.Load() {
			return errors.New("connection refused")
		}
		return nil
	}, monitor.Critical(), monitor.Description("primary database"), monitor.Interval(100*time.Millisecond))
	m.Add("cache", func(context.Context) error { return nil }, monitor.Interval(100*time.Millisecond))

	mux := http.NewServeMux()
	mux.Handle("/monitor/", m.Handler())
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("order")) })
	srv := httptest.NewServer(metrics.Middleware(met)(mux))
	defer srv.Close()
	for range 5 {
		res, err := http.Get(srv.URL + "/orders/42")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	// A client endpoint with a known latency distribution: 0.5 ms to
	// 99.5 ms, 1 ms apart, over 10 ms buckets, whose p50/p90/p99 are
	// 50/90/99 ms exactly (see TestPercentilesUniform).
	bounds := []float64{.01, .02, .03, .04, .05, .06, .07, .08, .09, .1}
	inventory := metrics.NewRequestMetrics(met, "http.client", metrics.WithDurationBuckets(bounds...))
	for k := 1; k <= 100; k++ {
		inventory.Record("inventory:8080", "GET", "2xx", time.Duration(k)*time.Millisecond-500*time.Microsecond)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()

	// open the tab, then read its console (runtime console calls,
	// exceptions and the browser log, network errors included) until the end.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	var mu sync.Mutex
	var jsErrors []string
	cctx, stopConsole := context.WithCancel(ctx)
	consoleDone := make(chan struct{})
	go func() {
		defer close(consoleDone)
		for msg, err := range chromedp.Console(cctx) {
			if err != nil {
				return
			}
			if msg.Type == chromedp.ConsoleError || msg.Type == chromedp.ConsoleException || msg.Type == chromedp.ConsoleWarning {
				mu.Lock()
				jsErrors = append(jsErrors, msg.String())
				mu.Unlock()
			}
		}
	}()
	defer func() { stopConsole(); <-consoleDone }()

	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.TextContent(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return v
	}
	loaded := time.Now()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/monitor/"),
		chromedp.WaitVisible(`body[data-live="1"]`),
		chromedp.WaitVisible(`tr[data-check="db"][data-state="ok"]`),
		chromedp.WaitVisible(`tr[data-check="cache"][data-state="ok"]`),
		chromedp.WaitVisible(`body[data-status="running"]`),
	); err != nil {
		t.Fatalf("page did not show live data: %v", err)
	}
	t.Logf("page live after %v", time.Since(loaded).Round(time.Millisecond))
	if st, reqs := text(`#status`), text(`#reqs`); st != "running" || !strings.Contains(reqs, "/orders/{id}") {
		t.Fatalf("status %q, requests %q", st, reqs)
	}
	if sec := text(`section[data-section="router"]`); !strings.Contains(sec, "10.0.0.2:80") {
		t.Fatalf("router section %q", sec)
	}
	const inv = `tr[data-endpoint="http.client GET inventory:8080"]`
	for lat, want := range map[string]string{"p50": "50.0ms", "p90": "90.0ms", "p99": "99.0ms", "max": "99.5ms"} {
		if got := text(inv + ` td[data-lat="` + lat + `"]`); got != want {
			t.Fatalf("inventory %s shows %q, want %q", lat, got, want)
		}
	}
	if p50 := text(`tr[data-endpoint="http.server GET /orders/{id}"] td[data-lat="p50"]`); p50 == "–" || p50 == "" {
		t.Fatalf("orders p50 %q: the server endpoint's percentiles are not shown", p50)
	}
	// mark the document: a reload would lose the mark
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__noReload = true`)); err != nil {
		t.Fatal(err)
	}
	// 100 more inventory calls in (90 ms, 100 ms]: p50 moves to
	// 90 + 10·10/110 ms, and the page follows without a reload.
	for range 100 {
		inventory.Record("inventory:8080", "GET", "2xx", 95*time.Millisecond)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(document.querySelector('`+inv+` td[data-lat="p50"]') || {}).textContent === "90.9ms"`)); err != nil {
		t.Fatalf("inventory p50 did not move to 90.9ms (shows %q): %v", text(inv+` td[data-lat="p50"]`), err)
	}
	fail.Store(true)
	changed := time.Now()
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(`tr[data-check="db"][data-state="fail"]`),
		chromedp.WaitVisible(`body[data-status="unhealthy"]`),
	); err != nil {
		t.Fatalf("page did not follow the state change: %v", err)
	}
	t.Logf("page showed db failing %v after the change", time.Since(changed).Round(time.Millisecond))
	if e, st := text(`tr[data-check="db"] .err`), text(`#status`); !strings.Contains(e, "connection refused") || st != "unhealthy" {
		t.Fatalf("db error %q, status %q", e, st)
	}
	// the request rate chart is drawn once two samples (a second apart) exist
	if err := chromedp.Do(ctx, chromedp.WaitReady(`span[data-chart="requests/s"] svg polyline`)); err != nil {
		t.Fatalf("no requests/s chart: %v", err)
	}
	if same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__noReload === true`)); err != nil || !same {
		t.Fatalf("the page reloaded (mark lost): %v", err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("MONITOR_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "monitor-status.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
	stopConsole()
	<-consoleDone
	mu.Lock()
	defer mu.Unlock()
	if len(jsErrors) > 0 {
		t.Fatalf("JS errors: %s", fmt.Sprint(jsErrors))
	}
}
