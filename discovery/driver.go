package discovery

import "context"

// Driver is what a backend implements; New puts the portable Registry in
// front of it. A driver sees only services that passed Validate, never a
// call after Close, and need not sort what it returns (the Registry sorts).
// It returns an empty result, not an error, for a service without live
// nodes, and wraps every failure onto a sentinel (Unavailable, Wrap). Its
// methods must be safe for concurrent use and honour ctx.
type Driver interface {
	// Register adds or refreshes every node of svc with the options given;
	// registering a node again is the heartbeat and must be cheap.
	Register(ctx context.Context, svc *Service, opts RegisterOptions) error
	// Deregister removes svc's nodes; unknown nodes are not an error.
	Deregister(ctx context.Context, svc *Service) error
	// GetService returns the live nodes of the service, grouped by version.
	// The Registry does not modify the result, and neither does the caller.
	GetService(ctx context.Context, name string) ([]*Service, error)
	// ListServices returns the names of the services with a live node.
	ListServices(ctx context.Context) ([]string, error)
	// WatchService is a blocking query: it returns the live nodes of the
	// service and an index for that state as soon as the state's index
	// differs from index (at once for index 0), or after a wait of the
	// backend's choosing with the same state, or when ctx is done (with
	// ctx's error). It never returns index 0 without an error. The Registry
	// runs the loop, the retries and the diffing around it.
	WatchService(ctx context.Context, name string, index uint64) ([]*Service, uint64, error)
	// Close releases what the driver owns. The Registry calls it once.
	Close() error
}
