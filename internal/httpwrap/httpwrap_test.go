package httpwrap

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRecorder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler func(w http.ResponseWriter)
		status  int
		bytes   int64
	}{
		{"nothing written", func(http.ResponseWriter) {}, 200, 0},
		{"body only", func(w http.ResponseWriter) { w.Write([]byte("hello")) }, 200, 5},
		{"status then body", func(w http.ResponseWriter) { w.WriteHeader(404); w.Write([]byte("no")) }, 404, 2},
		{"second status ignored", func(w http.ResponseWriter) { w.WriteHeader(503); w.WriteHeader(200) }, 503, 0},
		{"1xx then final", func(w http.ResponseWriter) { w.WriteHeader(103); w.WriteHeader(201) }, 201, 0},
		{"flush", func(w http.ResponseWriter) { http.NewResponseController(w).Flush() }, 200, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			under := httptest.NewRecorder()
			rec := NewRecorder(under)
			tc.handler(rec)
			if rec.Status() != tc.status || rec.Bytes() != tc.bytes {
				t.Fatalf("Status %d, Bytes %d; want %d, %d", rec.Status(), rec.Bytes(), tc.status, tc.bytes)
			}
		})
	}
}
