package ringkv

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/tidwall/redcon"

	"github.com/microos/go-os/kv"
)

// The per-key calls (get, set, add, cas, delete) take a faster road than
// a POST each: the caller asks the peer's handler, once per connection,
// to switch the connection to RESP (GET {peer}/conn with Upgrade:
// ringkv-resp and the secret, answered 101), and then sends one command
// per call on it, like a Redis client: the calling goroutine writes the
// command and reads the answer itself (a redigo pool), with none of
// net/http's hand-offs between goroutines, which cost as much as the
// round trip on loopback. The server side reads commands with redcon's
// RESP reader. A peer that does not switch (a proxy in between, HTTP/2
// only) is called over HTTP, and asked again after refusedFor. Bulk
// transfers (replicate, getmulti, sync, peek) stay POSTs.
//
// A command is eight bulk strings: op, key, value (empty for get and
// delete), ttl ms, version, the receiver's place in the owners, hops,
// forced ("1" or "0"). A get answers a bulk string: the version and the
// ttl ms as two big-endian uint64, then the value; the others answer OK.
// An error is a RESP error whose first word is classify's code.
const (
	upgradeProto = "ringkv-resp"
	connPath     = "conn"
	refusedFor   = 30 * time.Second
)

// peerConn is the pool of upgraded connections to one peer.
type peerConn struct {
	pool      atomic.Pointer[redis.Pool]
	newPool   func() *redis.Pool
	mu        sync.Mutex // orders renew and close
	closed    bool
	refusedAt atomic.Int64 // unix nanos of the peer's latest refusal to switch
}

// refusedError is a peer that answered the upgrade with no switch.
type refusedError struct{ peer, status string }

func (e *refusedError) Error() string {
	return fmt.Sprintf("ringkv: peer %s did not switch protocols: %s", e.peer, e.status)
}

// conns returns the pool of connections to peer, nil when calls to peer
// go over HTTP (the ring's client is the caller's, or the peer refused).
func (r *Ring) conns(peer string) *peerConn {
	if !r.upgrade {
		return nil
	}
	var pc *peerConn
	if m := r.peerConns.Load(); m != nil {
		pc = (*m)[peer]
	}
	if pc == nil {
		if pc = r.newConns(peer); pc == nil {
			return nil
		}
	}
	if at := pc.refusedAt.Load(); at != 0 && time.Since(time.Unix(0, at)) < refusedFor {
		return nil
	}
	return pc
}

func (r *Ring) newConns(peer string) *peerConn {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	if r.connsClosed {
		return nil
	}
	old := r.peerConns.Load()
	if old != nil && (*old)[peer] != nil {
		return (*old)[peer]
	}
	u, err := url.Parse(peer)
	if err != nil {
		return nil
	}
	dial := r.dialer(peer, u)
	pc := &peerConn{newPool: func() *redis.Pool {
		return &redis.Pool{
			DialContext: func(ctx context.Context) (redis.Conn, error) {
				c, err := dial(ctx)
				if err != nil {
					return nil, err
				}
				return redis.NewConn(c, 0, callTimeout), nil
			},
			MaxIdle:     64,
			IdleTimeout: 90 * time.Second,
		}
	}}
	pc.pool.Store(pc.newPool())
	m := map[string]*peerConn{}
	if old != nil {
		maps.Copy(m, *old)
	}
	m[peer] = pc
	r.peerConns.Store(&m)
	return pc
}

// dropConns closes the pools of peers no longer in v.
func (r *Ring) dropConns(v *view) {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	old := r.peerConns.Load()
	if old == nil {
		return
	}
	m := make(map[string]*peerConn, len(*old))
	for k, pc := range *old {
		if v.has(k) {
			m[k] = pc
		} else {
			pc.close()
		}
	}
	r.peerConns.Store(&m)
}

// closeConns closes every pool and every connection peers hold to this
// instance, and waits for their goroutines.
func (r *Ring) closeConns() {
	r.connMu.Lock()
	r.connsClosed = true
	if m := r.peerConns.Load(); m != nil {
		for _, pc := range *m {
			pc.close()
		}
	}
	r.peerConns.Store(nil)
	for c := range r.served {
		c.Close()
	}
	r.connMu.Unlock()
	r.servedWG.Wait()
}

// closeServed closes the connections peers hold through srv.
func (r *Ring) closeServed(srv *http.Server) {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	delete(r.hooked, srv)
	for c, s := range r.served {
		if s == srv {
			c.Close()
		}
	}
}

// callTimeout bounds a per-key call without a deadline in its ctx, as the
// default HTTP client's timeout does.
const callTimeout = 2 * time.Second

// dialer opens a connection to peer and switches it to RESP.
func (r *Ring) dialer(peer string, u *url.URL) func(context.Context) (net.Conn, error) {
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
	}
	return func(ctx context.Context) (net.Conn, error) {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, callTimeout)
			defer cancel()
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		if u.Scheme == "https" {
			tc := tls.Client(conn, &tls.Config{ServerName: u.Hostname()})
			if err := tc.HandshakeContext(ctx); err != nil {
				conn.Close()
				return nil, err
			}
			conn = tc
		}
		if err := r.switchProtocols(ctx, conn, peer); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	}
}

func (r *Ring) switchProtocols(ctx context.Context, conn net.Conn, peer string) error {
	dl, _ := ctx.Deadline()
	conn.SetDeadline(dl)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, peer+"/"+connPath, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", upgradeProto)
	if r.o.secret != "" {
		req.Header.Set(hdrSecret, r.o.secret)
	}
	if err := req.Write(conn); err != nil {
		return err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols || !strings.EqualFold(resp.Header.Get("Upgrade"), upgradeProto) {
		return &refusedError{peer: peer, status: resp.Status}
	}
	if br.Buffered() > 0 {
		return fmt.Errorf("ringkv: peer %s sent data before any command", peer)
	}
	return conn.SetDeadline(time.Time{})
}

// sendConn is send over pc; ok is false when the peer refused to switch
// protocols and the call must go over HTTP.
func (r *Ring) sendConn(ctx context.Context, pc *peerConn, peer string, c call) (kv.Item, bool, error) {
	var nums [4][20]byte
	ttl := strconv.AppendInt(nums[0][:0], ttlMillis(c.ttl), 10)
	version := strconv.AppendUint(nums[1][:0], c.version, 10)
	pos := strconv.AppendInt(nums[2][:0], int64(c.pos), 10)
	hops := strconv.AppendInt(nums[3][:0], int64(c.hops), 10)
	var value []byte
	if c.op != "get" && c.op != "delete" {
		value = c.value
	}
	forced := "0"
	if c.forced {
		forced = "1"
	}
	reply, ok, err := r.connDo(ctx, pc, peer, wireOp[c.op], c.key, value, ttl, version, pos, hops, forced)
	if !ok || err != nil || c.op != "get" {
		return kv.Item{}, ok, err
	}
	b, isBytes := reply.([]byte)
	if !isBytes || len(b) < 16 {
		return kv.Item{}, true, kv.Unavailable(fmt.Errorf("ringkv: peer %s: %w", peer, errBadAnswer))
	}
	return kv.Item{Value: b[16:len(b):len(b)], Version: binary.BigEndian.Uint64(b), TTL: time.Duration(binary.BigEndian.Uint64(b[8:])) * time.Millisecond}, true, nil
}

// replicateTo sends replication records to peer, over its switched
// connections when it has them.
func (r *Ring) replicateTo(ctx context.Context, peer string, body []byte) error {
	if pc := r.conns(peer); pc != nil {
		if _, ok, err := r.connDo(ctx, pc, peer, "REPLICATE", body); ok {
			return err
		}
	}
	_, err := r.post(ctx, peer, "replicate", url.Values{}, body)
	return err
}

// connDo runs one command on a connection of pc and maps its failure onto
// kv's errors; ok is false when the peer refused to switch protocols. The
// calling goroutine writes the command and reads the answer: a deadline
// in ctx bounds the call, as callTimeout does without one, but a
// cancellation without a deadline is not seen until the answer comes.
func (r *Ring) connDo(ctx context.Context, pc *peerConn, peer, cmd string, args ...any) (reply any, ok bool, err error) {
	timeout, ctxBound := callTimeout, false
	if dl, ok := ctx.Deadline(); ok {
		if until := time.Until(dl); until <= callTimeout {
			if until <= 0 {
				return nil, true, kv.Unavailable(context.DeadlineExceeded)
			}
			timeout, ctxBound = until, true
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, true, err
	}
	pool := pc.pool.Load()
	reply, err = do(ctx, pool, timeout, cmd, args)
	if err != nil && broken(err) {
		// A pooled connection the peer closed since: once more, on a
		// new one. The peer did not decide the call on the old one
		// unless it went down deciding it, and then the new one fails.
		pc.renew(pool)
		reply, err = do(ctx, pc.pool.Load(), timeout, cmd, args)
	}
	if err == nil {
		r.peerHealth(peer).Success()
		return reply, true, nil
	}
	var re redis.Error
	var refused *refusedError
	var ne net.Error
	switch {
	case ctxBound && errors.As(err, &ne) && ne.Timeout():
		// ctx's deadline, as the socket's: the caller's time is up.
		return nil, true, kv.Unavailable(fmt.Errorf("%w: %w", context.DeadlineExceeded, err))
	case errors.As(err, &re):
		r.peerHealth(peer).Success()
		return nil, true, connError(peer, string(re))
	case errors.As(err, &refused):
		pc.refusedAt.Store(time.Now().UnixNano())
		return nil, false, nil
	case ctx.Err() != nil:
		return nil, true, kv.Unavailable(err)
	}
	r.peerHealth(peer).Failure(err)
	return nil, true, down(err)
}

// do runs one command on a connection of pool.
func do(ctx context.Context, pool *redis.Pool, timeout time.Duration, cmd string, args []any) (any, error) {
	conn, err := pool.GetContext(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return redis.DoWithTimeout(conn, timeout, cmd, args...)
}

var errBadAnswer = errors.New("bad get answer")

// renew replaces the pool whose connection broke: the peer closed them
// all (it restarted, or its server shut down), so the idle ones are not
// worth trying one call at a time.
func (pc *peerConn) renew(old *redis.Pool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if !pc.closed && pc.pool.Load() == old {
		pc.pool.Store(pc.newPool())
		old.Close()
	}
}

// close closes the pool for good: a call still holding it fails.
func (pc *peerConn) close() {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.closed = true
	pc.pool.Load().Close()
}

// broken reports a connection the peer closed: it read nothing of the
// command, or is gone.
func broken(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// wireOp is each operation's command name: upper case, which redigo
// takes without converting it.
var wireOp = map[string]string{"get": "GET", "set": "SET", "add": "ADD", "cas": "CAS", "delete": "DELETE"}

// connError maps a peer's RESP error onto kv's errors, as postQuery maps
// its status codes.
func connError(peer, msg string) error {
	code, _, _ := strings.Cut(msg, " ")
	err := fmt.Errorf("ringkv: peer %s: %s", peer, msg)
	switch code {
	case "notfound":
		return kv.ErrNotFound
	case "exists":
		return kv.ErrExists
	case "conflict":
		return kv.ErrConflict
	case "toolarge":
		return kv.Wrap(kv.ErrTooLarge, err)
	case "invalid":
		return kv.Wrap(kv.ErrInvalidItem, err)
	case "notowner", "down":
		return down(err)
	}
	return kv.Unavailable(err)
}

// serveConn switches a peer's connection to RESP and serves its commands
// until the peer closes it or the ring shuts down.
func (r *Ring) serveConn(w http.ResponseWriter, req *http.Request) {
	if r.closing.Load() {
		writeErr(w, errLeaving)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "ringkv: cannot switch protocols here: "+err.Error(), http.StatusNotImplemented)
		return
	}
	defer conn.Close()
	r.connMu.Lock()
	if r.connsClosed {
		r.connMu.Unlock()
		return
	}
	// http.Server.Shutdown does not know of the connection: tell it.
	srv, _ := req.Context().Value(http.ServerContextKey).(*http.Server)
	if srv != nil && !r.hooked[srv] {
		r.hooked[srv] = true
		srv.RegisterOnShutdown(func() { r.closeServed(srv) })
	}
	r.served[conn] = srv
	r.servedWG.Add(1)
	r.connMu.Unlock()
	defer func() {
		r.connMu.Lock()
		delete(r.served, conn)
		r.connMu.Unlock()
		r.servedWG.Done()
	}()
	// The server's read and write deadlines are for HTTP requests.
	conn.SetDeadline(time.Time{})
	resp := &http.Response{StatusCode: http.StatusSwitchingProtocols, ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Connection": {"Upgrade"}, "Upgrade": {upgradeProto}}}
	if resp.Write(brw) != nil || brw.Flush() != nil {
		return
	}
	var rd *redcon.Reader
	if brw.Reader.Buffered() > 0 {
		rd = redcon.NewReader(brw.Reader)
	} else {
		rd = redcon.NewReader(conn)
	}
	wr := redcon.NewWriter(conn)
	var scratch []byte
	for {
		cmds, err := rd.ReadCommands()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				wr.WriteError("invalid " + oneLine(err.Error()))
				wr.Flush()
			}
			return
		}
		for _, cmd := range cmds {
			scratch = r.serveCmd(wr, cmd.Args, scratch)
		}
		if wr.Flush() != nil {
			return
		}
	}
}

// serveCmd runs one command and writes its answer; scratch is a buffer
// for the answer, returned for the next command.
func (r *Ring) serveCmd(wr *redcon.Writer, a [][]byte, scratch []byte) []byte {
	if len(a) == 2 && string(a[0]) == "REPLICATE" {
		r.serveReplicateCmd(wr, a[1])
		return scratch
	}
	if len(a) != 8 {
		wr.WriteError(fmt.Sprintf("invalid ringkv: %d arguments, want 8", len(a)))
		return scratch
	}
	var c call
	switch string(a[0]) {
	case "GET":
		c.op = "get"
	case "SET":
		c.op = "set"
	case "ADD":
		c.op = "add"
	case "CAS":
		c.op = "cas"
	case "DELETE":
		c.op = "delete"
	default:
		c.op = string(a[0])
	}
	c.key = string(a[1])
	if c.op != "get" && c.op != "delete" {
		if int64(len(a[2])) > r.o.maxValue {
			wr.WriteError("toolarge ringkv: value too large")
			return scratch
		}
		c.value = bytes.Clone(a[2]) // a[2] is the reader's buffer
		if c.value == nil {
			c.value = []byte{}
		}
	}
	ttl, ok1 := atou(a[3])
	version, ok2 := atou(a[4])
	pos, ok3 := atou(a[5])
	hops, ok4 := atou(a[6])
	if !ok1 || !ok2 || !ok3 || !ok4 || ttl > 1<<62 || pos > 1<<16 || hops > 1<<16 {
		wr.WriteError("invalid ringkv: a number is not a number")
		return scratch
	}
	c.version, c.pos, c.hops, c.forced = version, int(pos), int(hops), string(a[7]) == "1"
	err := checkCall(&c, int64(ttl))
	var it kv.Item
	if err == nil {
		// Not r.ctx, which Shutdown cancels before it hands keys off: a
		// call decided meanwhile finishes, as an HTTP one does. Every
		// peer call it makes is bounded by callTimeout.
		it, err = r.own(context.Background(), c)
	}
	if err != nil {
		code, _ := classify(err)
		wr.WriteError(code + " " + oneLine(err.Error()))
		return scratch
	}
	if c.op != "get" {
		wr.WriteString("OK")
		return scratch
	}
	scratch = binary.BigEndian.AppendUint64(scratch[:0], it.Version)
	scratch = binary.BigEndian.AppendUint64(scratch, uint64(ttlMillis(it.TTL)))
	scratch = append(scratch, it.Value...)
	wr.WriteBulk(scratch)
	if cap(scratch) > 64<<10 {
		scratch = nil // a large value: do not keep its buffer
	}
	return scratch
}

// serveReplicateCmd is serveReplicate on a switched connection.
func (r *Ring) serveReplicateCmd(wr *redcon.Writer, body []byte) {
	if int64(len(body)) > max(r.o.maxValue, maxBatch)+maxBatch {
		wr.WriteError("toolarge ringkv: batch too large")
		return
	}
	if r.closing.Load() {
		wr.WriteError("down " + errLeaving.Error())
		return
	}
	body = bytes.Clone(body) // the records' values are kept; body is the reader's buffer
	err := readRecs(body, func(rec record) error {
		_, err := r.local.merge(rec)
		return err
	})
	switch {
	case err == errCorruptRecords:
		wr.WriteError("invalid " + err.Error())
	case err != nil:
		code, _ := classify(err)
		wr.WriteError(code + " " + oneLine(err.Error()))
	default:
		wr.WriteString("OK")
	}
}

// atou parses a decimal uint64 (no sign, no spaces).
func atou(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, d := range b {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + uint64(d-'0')
	}
	return n, true
}

// oneLine keeps a RESP error on its line.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
