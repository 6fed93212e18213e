package routergrpc

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/microos/go-os/router"
)

type pinKey struct{}

// UnaryClientInterceptor runs each unary call on a goos:/// target through
// r.Do: the router picks the node (the balancer then uses it), reports
// the outcome, and retries a call that failed with codes.Unavailable on
// another node as r's WithRetryPolicy allows. Other targets pass through.
func UnaryClientInterceptor(r *router.Router) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		service, ok := strings.CutPrefix(cc.Target(), Scheme+":///")
		if !ok {
			return invoker(ctx, method, req, reply, cc, opts...)
		}
		var callErr error
		// Never hedged: the two attempts would share reply.
		err := r.Do(router.NoHedge(ctx), service, router.KeyFromContext(ctx), func(ctx context.Context, n *router.Node) error {
			callErr = invoker(context.WithValue(ctx, pinKey{}, n), method, req, reply, cc, opts...)
			failure := nodeError(callErr)
			if failure != nil && status.Code(callErr) != codes.Unavailable {
				return router.Permanent(failure)
			}
			return failure
		})
		if callErr != nil {
			return callErr
		}
		if err != nil {
			// Only the caller's own ctx makes this a ctx status: an error
			// that merely wraps a deadline (a discovery client's timeout)
			// while ctx is live is the backend being unavailable, never
			// success.
			if ctx.Err() != nil {
				return status.FromContextError(ctx.Err()).Err()
			}
			return status.Error(codes.Unavailable, err.Error())
		}
		return nil
	}
}
