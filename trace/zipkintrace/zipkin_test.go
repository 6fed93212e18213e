package zipkintrace_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/microos/go-os/internal/jaegerquery"
	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/trace"
	"github.com/microos/go-os/trace/tracetest"
	"github.com/microos/go-os/trace/zipkintrace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	tracetest.Run(t, func(t *testing.T) tracetest.Backend {
		spansURL, queryURL := testenv.Zipkin(t)
		u := must(url.Parse(spansURL))
		p := testenv.NewProxy(t, u.Host) // a path the suite can cut
		p.Start()
		u.Host = p.Addr()
		exp, err := zipkintrace.New(u.String())
		if err != nil {
			t.Fatal(err)
		}
		return tracetest.Backend{Exporter: exp, Read: jaegerquery.Reader(queryURL), Path: p}
	})
}

func TestOpen(t *testing.T) {
	spansURL, queryURL := testenv.Zipkin(t)
	tr, err := trace.Open(context.Background(), "zipkin+"+spansURL+"?service=opened&sampler=always")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tr.Exporter().(*zipkintrace.Exporter); !ok {
		t.Fatalf("exporter %T", tr.Exporter())
	}
	_, s := tr.Start(context.Background(), "opened-span")
	s.End()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans, err := jaegerquery.Reader(queryURL)(ctxT(t), s.SpanContext().TraceID, 1)
	if err != nil || len(spans) != 1 || !strings.EqualFold(spans[0].Service, "opened") {
		t.Fatalf("read back %+v, %v", spans, err)
	}
}

func TestOpenRefusesUnknownParameters(t *testing.T) {
	// No collector needed: the URL is refused before anything is sent.
	tr, err := trace.Open(context.Background(), "zipkin+http://127.0.0.1:1/api/v2/spans?service=a&batch=10")
	if err == nil {
		tr.Shutdown(context.Background())
		t.Fatal("Open with an unknown parameter succeeded")
	}
	if !errors.Is(err, trace.ErrBadURL) {
		t.Fatal(err)
	}
}

func TestAsReachesHTTPClient(t *testing.T) {
	c := &http.Client{}
	exp, err := zipkintrace.New("http://127.0.0.1:1/api/v2/spans", zipkintrace.WithHTTPClient(c))
	if err != nil {
		t.Fatal(err)
	}
	tr := trace.New(exp)
	defer tr.Shutdown(context.Background())
	var got *http.Client
	if !tr.As(&got) || got != c {
		t.Fatalf("As gave %p, want %p", got, c)
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "ftp://x/api/v2/spans", "http:///nohost", "::"} {
		if _, err := zipkintrace.New(u); err == nil {
			t.Errorf("New(%q) succeeded", u)
		}
	}
}

// A span started at a time Zipkin refuses (before 1970) must not take the
// batch's good spans down with it: it goes without a timestamp. Checked at
// the real collector: every span of the batch, the bad one too, is read
// back from its query API.
func TestBadStartTimeDoesNotPoisonTheBatch(t *testing.T) {
	spansURL, queryURL := testenv.Zipkin(t)
	exp, err := zipkintrace.New(spansURL)
	if err != nil {
		t.Fatal(err)
	}
	tr := trace.New(exp, trace.WithService("bad-start-time", "", ""), trace.WithSampler(trace.Always()), trace.WithFlushInterval(time.Hour))
	ctx, root := tr.Start(context.Background(), "root")
	ids := map[trace.SpanID]string{root.SpanContext().SpanID: "root"}
	for i := 0; i < 9; i++ {
		_, s := tr.Start(ctx, "good")
		ids[s.SpanContext().SpanID] = "good"
		s.End()
	}
	_, bad := tr.Start(ctx, "bad", trace.WithStartTime(time.Unix(-5, 0)))
	ids[bad.SpanContext().SpanID] = "bad"
	bad.End()
	root.End()
	if err := tr.Shutdown(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if st := tr.Stats(); st.Exported != 11 || st.Dropped != 0 || st.FailedExports != 0 {
		t.Fatalf("stats %+v: want all 11 spans exported in one good batch", st)
	}
	spans, err := jaegerquery.Reader(queryURL)(ctxT(t), root.SpanContext().TraceID, len(ids))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range spans {
		if _, ok := ids[d.SpanID]; !ok {
			t.Errorf("unexpected span %s %q", d.SpanID, d.Name)
		}
		delete(ids, d.SpanID)
	}
	if len(ids) != 0 {
		t.Errorf("not stored by the collector: %v", ids)
	}
}
