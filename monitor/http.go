package monitor

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"strings"
)

//go:embed page.html
var pageHTML []byte

var (
	okBody    = []byte("ok\n")
	textPlain = []string{"text/plain; charset=utf-8"}
	noStore   = []string{"no-store"}
)

// Handler returns the monitor's endpoints, matched on the end of the
// path so it can be mounted under any prefix (http.StripPrefix is not
// needed):
//
//	.../health/live   200 while the process serves HTTP
//	.../health/ready  200 when every critical check passes with a fresh
//	                  cached result, else 503 naming the failing checks
//	.../status        JSON: the Report with stats and sections (always 200:
//	                  read "ready" and "status" in the body)
//	anything else     the status page (HTML, no external assets)
func (m *Monitor) Handler() http.Handler { return handler{m} }

type handler struct{ m *Monitor }

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/health/ready"):
		h.ready(w)
	case strings.HasSuffix(p, "/health/live"):
		hd := w.Header()
		hd["Content-Type"] = textPlain
		hd["Cache-Control"] = noStore
		w.WriteHeader(http.StatusOK)
		w.Write(okBody)
	case strings.HasSuffix(p, "/status"):
		h.status(w)
	default:
		hd := w.Header()
		hd.Set("Content-Type", "text/html; charset=utf-8")
		hd.Set("Cache-Control", "no-store")
		w.Write(pageHTML)
	}
}

func (h handler) ready(w http.ResponseWriter) {
	hd := w.Header()
	hd["Content-Type"] = textPlain
	hd["Cache-Control"] = noStore
	if h.m.Ready() {
		w.WriteHeader(http.StatusOK)
		w.Write(okBody)
		return
	}
	var b strings.Builder
	if h.m.stopping.Load() {
		b.WriteString("stopping\n")
	}
	for _, c := range h.m.Checks() {
		if c.Critical && !c.OK {
			b.WriteString(c.Name + ": " + c.Error + "\n")
		}
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write([]byte(b.String()))
}

// FullReport is the Report with stats and the optional sections, as
// /status serves it.
func (m *Monitor) FullReport() Report {
	rep := m.Report()
	st := m.Stats()
	rep.Stats = &st
	if len(m.o.sections) > 0 {
		rep.Sections = map[string]any{}
		for _, s := range m.o.sections {
			rep.Sections[s.name] = s.fn()
		}
	}
	return rep
}

func (h handler) status(w http.ResponseWriter) {
	rep := h.m.FullReport()
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(rep)
}
