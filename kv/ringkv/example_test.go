package ringkv_test

import (
	"context"
	"fmt"
	"net"
	"net/http"

	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/kv/ringkv"
)

// Two instances pool their memory: a key written through one is read
// through the other, whichever of them owns it.
func Example() {
	var urls []string
	var listeners []net.Listener
	for i := 0; i < 2; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Println(err)
			return
		}
		listeners = append(listeners, l)
		urls = append(urls, "http://"+l.Addr().String()+"/_kv")
	}
	var stores []kv.Store
	var servers []*http.Server
	var rings []*ringkv.Ring
	for i, l := range listeners {
		ring, err := ringkv.New(urls[i], urls)
		if err != nil {
			fmt.Println(err)
			return
		}
		rings = append(rings, ring)
		mux := http.NewServeMux()
		mux.Handle("/_kv/", ring.Handler()) // serve the keys this instance owns
		srv := &http.Server{Handler: mux}
		go srv.Serve(l)
		servers = append(servers, srv)
		stores = append(stores, ring.Store()) // a kv.Store like any other
	}
	defer func() {
		for i := range stores {
			stores[i].Close()
			rings[i].Close() // hands this instance's keys to the others
			servers[i].Close()
		}
	}()
	ctx := context.Background()
	if err := stores[0].Set(ctx, kv.Item{Key: "greeting", Value: []byte("hello")}); err != nil {
		fmt.Println(err)
		return
	}
	it, err := stores[1].Get(ctx, "greeting")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(it.Value))
	// Output: hello
}
