package hostrule

import "testing"

func TestService(t *testing.T) {
	for _, tc := range []struct {
		host  string
		allow []string
		want  bool
	}{
		{"orders", nil, true},
		{"orders-v2_blue", nil, true},
		{"", nil, false},
		{"api.example.com", nil, false},
		{"orders.svc", nil, false},
		{"10.0.0.7", nil, false},
		{"::1", nil, false},
		{"[::1]", nil, false},
		{"[::1]:8080", nil, false},
		{"10.0.0.7:8080", nil, false},
		{"orders:8080", nil, false},
		{"localhost", nil, false},
		{"LocalHost", nil, false},
		{"app.localhost", nil, false},
		{"orders", []string{"billing"}, false},
		{"billing", []string{"billing"}, true},
		{"orders.internal", []string{"orders.internal"}, true},
		{"orders.internal:80", []string{"orders.internal"}, false},
		{"localhost", []string{"localhost"}, false},
		{"127.0.0.1", []string{"127.0.0.1"}, false},
	} {
		name, ok := Service(tc.host, tc.allow)
		if ok != tc.want || (ok && name != tc.host) {
			t.Errorf("Service(%q, %v) = %q, %v; want %v", tc.host, tc.allow, name, ok, tc.want)
		}
	}
}

func BenchmarkService(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Service("orders", nil)
	}
}
