package sync

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// LeaderHeader names the current leader's candidate value on the 503
// that LeaderOnly answers on other instances.
const LeaderHeader = "X-Leader"

// LeaderOnly serves the wrapped handler only while this Client leads
// election (a Leadership won by c.Campaign and not lost nor resigned), for
// singleton endpoints behind a load balancer. Other instances answer 503
// Service Unavailable, with the leader's candidate value in LeaderHeader
// and the body, so that a caller or a proxy can go there. It does not
// replace the request or its ctx, so it need not join the route slot.
func LeaderOnly(c *Client, election string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c.Leading(election) != nil {
				next.ServeHTTP(w, r)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), time.Second)
			defer cancel()
			w.Header().Set("Retry-After", "1")
			ld, err := c.Leader(ctx, election)
			if err != nil {
				http.Error(w, fmt.Sprintf("not the leader of %q; leader unknown: %v", election, err), http.StatusServiceUnavailable)
				return
			}
			w.Header().Set(LeaderHeader, ld.Candidate)
			http.Error(w, fmt.Sprintf("not the leader of %q; the leader is %q", election, ld.Candidate), http.StatusServiceUnavailable)
		})
	}
}
