package ringkv_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/microos/go-os/discovery"
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

// Instances of one service find each other through discovery: each
// registers its handler's URL, and the ring follows the registry's watch.
func Example_discovery() {
	ctx := context.Background()
	reg := discovery.NewMemory() // consuldiscovery in production
	defer reg.Close()
	var rings []*ringkv.Ring
	for i := 0; i < 3; i++ {
		mux := http.NewServeMux()
		srv := httptest.NewServer(mux)
		defer srv.Close()
		self := srv.URL + "/_kv"
		ring, err := ringkv.New(self, nil, ringkv.WithDiscovery(reg, "billing"))
		if err != nil {
			fmt.Println(err)
			return
		}
		defer ring.Close()
		mux.Handle("/_kv/", http.StripPrefix("/_kv", ring.Handler()))
		reg.Register(ctx, &discovery.Service{Name: "billing", Nodes: []*discovery.Node{{
			ID: "billing-" + strconv.Itoa(i), Address: "127.0.0.1",
			Metadata: map[string]string{ringkv.MetadataURL: self},
		}}})
		rings = append(rings, ring)
	}
	for _, r := range rings {
		for len(r.Peers()) < 3 { // wait for the watch to see all three
			time.Sleep(time.Millisecond)
		}
		r.Settle(ctx)
	}
	a, b := rings[0].Store(), rings[2].Store()
	defer a.Close()
	defer b.Close()
	a.Set(ctx, kv.Item{Key: "invoice:42", Value: []byte("paid")})
	it, _ := b.Get(ctx, "invoice:42")
	fmt.Println(string(it.Value), len(rings[1].Peers()))
	// Output: paid 3
}
