package config

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/microos/go-os/internal/redact"
)

// Handler serves the configuration for debugging, as JSON: the current
// snapshot's version and values, redacted (secret-looking keys and URL
// passwords masked), and every source's status. Mount it on an internal
// port (monitor's mux, say): even redacted, configuration describes the
// service.
func Handler(c *Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		snap := c.Snapshot()
		st := c.Status()
		type source struct {
			Name        string     `json:"name"`
			Healthy     bool       `json:"healthy"`
			Watching    bool       `json:"watching"`
			LastSuccess *time.Time `json:"last_success,omitempty"`
			LastError   string     `json:"last_error,omitempty"`
			LastErrorAt *time.Time `json:"last_error_at,omitempty"`
		}
		out := struct {
			Version  uint64         `json:"version"`
			LoadedAt time.Time      `json:"loaded_at"`
			Config   map[string]any `json:"config"`
			Sources  []source       `json:"sources"`
		}{Version: snap.Version(), LoadedAt: snap.LoadedAt(), Config: snap.Redacted()}
		for _, s := range st.Sources {
			src := source{Name: s.Name, Healthy: s.Healthy(), Watching: s.Watching}
			if !s.LastSuccess.IsZero() {
				src.LastSuccess = &s.LastSuccess
			}
			if s.LastError != nil {
				src.LastError = redact.String(s.LastError.Error())
				src.LastErrorAt = &s.LastErrorAt
			}
			out.Sources = append(out.Sources, src)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(out)
	})
}
