package sync

import (
	"context"
	"fmt"
	"net/url"

	"github.com/microos/go-os/internal/urlopen"
)

var backends = urlopen.New[Driver]("sync")

func init() {
	Register("mem", func(_ context.Context, u *url.URL) (Driver, error) {
		if u.RawQuery != "" || u.Host != "" || u.Path != "" {
			return nil, Wrap(ErrInvalid, fmt.Errorf("mem:// takes no host, path or parameters"))
		}
		return NewMemoryBackend(nil), nil
	})
}

// Register makes Open understand scheme. Adapters call it from init:
// importing sync/redissync registers redis, rediss, redis+cluster and
// rediss+cluster; sync/consulsync registers consul. It panics if the
// scheme is taken.
func Register(scheme string, open func(ctx context.Context, u *url.URL) (Driver, error)) {
	backends.Register(scheme, open)
}

// Open returns a Client for the backend the URL names:
//
//	mem://
//	redis://[user:password@]host:port/db     (rediss:// for TLS)
//	redis+cluster://host1:port1,host2:port2  (rediss+cluster:// for TLS)
//	consul://host:port?token=T&dc=DC
//
// Unknown parameters are refused. The backend's adapter must be imported
// (blank, if only its URL is used).
func Open(ctx context.Context, rawURL string, opts ...Option) (*Client, error) {
	u, err := urlopen.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("sync: open: %w", Wrap(ErrInvalid, err))
	}
	d, err := backends.OpenURL(ctx, u)
	if err != nil {
		return nil, err
	}
	if m, ok := d.(*Memory); ok {
		m.now = defaults().with(opts).now
	}
	return New(d, opts...), nil
}
