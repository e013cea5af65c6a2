// l_gosleep: a Go program (many runtime threads, its own signal use) as the launch test's
// oracle. It starts busy goroutines and a sleeper, prints READY, then blocks reading
// DIR/fifo. The test checkpoints it meanwhile, then writes a byte. The program checks that
// the read succeeded, that the 3 s sleep took 3 s (none lost, none added), that the busy
// goroutines made progress, and prints PASS.
//
// Built by tests/integration/t_launch_musl_go.sh with the go toolchain when it is present.
package main

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: l_gosleep DIR")
		os.Exit(2)
	}
	f, err := os.OpenFile(os.Args[1]+"/fifo", os.O_RDWR, 0)
	if err != nil {
		fmt.Println("FAIL open:", err)
		os.Exit(1)
	}
	var work int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					atomic.AddInt64(&work, 1)
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	slept := make(chan time.Duration, 1)
	go func() {
		t0 := time.Now()
		time.Sleep(3 * time.Second)
		slept <- time.Since(t0)
	}()
	fmt.Println("READY")
	buf := make([]byte, 1)
	n, err := f.Read(buf)
	fails := 0
	if n != 1 || err != nil {
		fmt.Println("FAIL read:", n, err)
		fails++
	}
	d := <-slept
	if d < 3*time.Second || d > 3900*time.Millisecond {
		fmt.Println("FAIL sleep took", d)
		fails++
	}
	close(stop)
	wg.Wait()
	if atomic.LoadInt64(&work) < 10 {
		fmt.Println("FAIL goroutines made no progress")
		fails++
	}
	if fails > 0 {
		fmt.Println("FAIL")
		os.Exit(1)
	}
	fmt.Println("PASS")
}
