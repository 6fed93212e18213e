package tracegrpc_test

import (
	"fmt"

	"google.golang.org/grpc/metadata"

	"github.com/microos/go-os/trace"
	"github.com/microos/go-os/trace/tracegrpc"
)

// The interceptors carry the trace context in gRPC metadata through Carrier.
func ExampleCarrier() {
	sc, _ := trace.ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	md := metadata.MD{}
	trace.Inject(sc, tracegrpc.Carrier(md), trace.W3C, trace.B3Single)
	fmt.Println(md.Get("traceparent")[0])
	fmt.Println(md.Get("b3")[0])

	back, ok := trace.Extract(tracegrpc.Carrier(md))
	fmt.Println(ok, back.TraceID)
	// Output:
	// 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
	// 4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1
	// true 4bf92f3577b34da6a3ce929d0e0e4736
}
