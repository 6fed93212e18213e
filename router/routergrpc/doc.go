// Package routergrpc balances gRPC calls with the router: a resolver for
// goos:///service-name targets that follows the service in discovery, and
// a balancer that picks each call's node with the router's strategy and
// feeds the call's outcome back (latency, failures, ejection, stats).
//
//	r := router.New(reg, router.WithStrategy(router.P2C()), router.WithRetryPolicy(router.Retry{Attempts: 3}))
//	conn, err := grpc.NewClient("goos:///greeter",
//		grpc.WithResolvers(routergrpc.NewBuilder(r)),
//		grpc.WithChainUnaryInterceptor(routergrpc.UnaryClientInterceptor(r)),
//		grpc.WithTransportCredentials(insecure.NewCredentials()))
//
// The balancer alone picks through the router and reports every call. The
// interceptor adds the router's retries: it runs each call through
// Router.Do, pins the attempt's node for the balancer, and retries calls
// that fail with codes.Unavailable on another node, within the retry
// budget. Calls answered with an application error (NotFound,
// InvalidArgument, ...) count as the node's successes.
package routergrpc
