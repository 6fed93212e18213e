package statsdmetrics_test

import (
	"net"
	"sync"
	"testing"
)

// udpRelay forwards the datagrams sent to its loopback port to a real
// statsd daemon, so that a test can take the daemon away from one client
// (Cut: the port closes and the kernel answers ICMP port unreachable, as
// for a daemon that died) and give it back on the same port (Restore),
// without touching the shared daemon. It is testenv.Proxy for UDP.
type udpRelay struct {
	t      *testing.T
	addr   string
	target *net.UDPConn
	mu     sync.Mutex
	conn   net.PacketConn
	wg     sync.WaitGroup
}

func newUDPRelay(t *testing.T, target string) *udpRelay {
	t.Helper()
	up, err := net.Dial("udp", target)
	if err != nil {
		t.Fatal(err)
	}
	r := &udpRelay{t: t, target: up.(*net.UDPConn)}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = conn.LocalAddr().String()
	r.serve(conn)
	t.Cleanup(func() { r.Cut(t); up.Close() })
	return r
}

func (r *udpRelay) serve(conn net.PacketConn) {
	r.mu.Lock()
	r.conn = conn
	r.mu.Unlock()
	r.wg.Go(func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			r.target.Write(buf[:n])
		}
	})
}

// Cut closes the port.
func (r *udpRelay) Cut(*testing.T) {
	r.mu.Lock()
	if r.conn != nil {
		r.conn.Close()
		r.conn = nil
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// Restore listens on the same port again.
func (r *udpRelay) Restore(t *testing.T) {
	conn, err := net.ListenPacket("udp", r.addr)
	if err != nil {
		t.Fatalf("relay listen %s again: %v", r.addr, err)
	}
	r.serve(conn)
}
