module github.com/microos/go-os/bench

go 1.26.0

require github.com/microos/go-os v0.0.0

replace github.com/microos/go-os => ../
