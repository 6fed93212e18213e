package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"

	oslog "github.com/microos/go-os/log"
	"github.com/microos/go-os/trace"
)

// demoLog shows the log package: a JSON logger with service fields, an
// async queue, redaction, and trace and request ids taken from ctx, here
// filled by the trace and log HTTP middlewares around a handler.
func demoLog(ctx context.Context, w io.Writer) error {
	tracer, _ := trace.NewMemory(trace.WithService("demo", "", ""))
	defer tracer.Shutdown(ctx)

	out := oslog.NewMemory()
	logger, err := oslog.New(
		oslog.WithOutput(out),
		oslog.WithService("demo", "1.0.0", "demo-0"),
		oslog.WithAsync(oslog.OnFull(oslog.Drop)),
		oslog.WithTraceIDs(func(ctx context.Context) (string, string, bool) {
			sc := trace.SpanContextFromContext(ctx)
			if !sc.IsValid() {
				return "", "", false
			}
			return sc.TraceID.String(), sc.SpanID.String(), true
		}),
	)
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "checking credentials", "user", "ann", "password", "hunter2")
		fmt.Fprint(w, "welcome")
	})
	srv := trace.Middleware(tracer)(oslog.Middleware(logger.Logger)(mux))
	srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequestWithContext(ctx, "POST", "/login", nil))

	if err := logger.Close(); err != nil { // flushes the queue
		return err
	}
	entries, err := out.Entries()
	if err != nil {
		return err
	}
	for _, e := range entries {
		delete(e, "time")
		fmt.Fprintln(w, formatEntry(e))
	}
	st := logger.Stats()
	fmt.Fprintf(w, "written=%d dropped=%d errors=%d\n", st.Written, st.Dropped, st.Errors)
	return nil
}

// formatEntry prints a line's fields sorted, "duration" rounded away, so
// that the demo's output reads the same on every run.
func formatEntry(e map[string]any) string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		v := e[k]
		if k == "duration" {
			v = "…"
		}
		fmt.Fprintf(&b, "%s=%v", k, v)
	}
	return b.String()
}
