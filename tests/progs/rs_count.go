// Restart test program in Go, its own oracle (the rs_* protocol of restart_lib.bash):
//
//	rs_count READYFILE LIMIT
//
// Writes its pid to READYFILE, then every 20 ms prints "count N". Eight goroutines (over the
// runtime's threads) each add to their own counter and to a shared atomic total, and send
// their progress over a channel; the main goroutine checks at every step that the total is
// the sum of the counters, and that the timers and the scheduler still work. PASS pid PID at
// LIMIT, FAIL with the reason otherwise.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: rs_count READYFILE LIMIT")
		os.Exit(2)
	}
	limit, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad LIMIT")
		os.Exit(2)
	}
	pid := os.Getpid()
	var total int64
	var mu sync.Mutex
	counts := make([]int64, 8)
	progress := make(chan int, 64)
	for w := 0; w < 8; w++ {
		go func(w int) {
			for {
				mu.Lock()
				counts[w]++
				atomic.AddInt64(&total, 1)
				mu.Unlock()
				select {
				case progress <- w:
				default:
				}
				time.Sleep(time.Millisecond)
			}
		}(w)
	}
	tmp := os.Args[1] + ".tmp"
	if err := os.WriteFile(tmp, []byte(fmt.Sprintf("%d\n", pid)), 0644); err != nil {
		fmt.Println("FAIL ready file:", err)
		os.Exit(1)
	}
	if err := os.Rename(tmp, os.Args[1]); err != nil {
		fmt.Println("FAIL ready file:", err)
		os.Exit(1)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	for i := 1; i <= limit; i++ {
		<-tick.C
		mu.Lock()
		var sum int64
		for _, c := range counts {
			sum += c
		}
		t := atomic.LoadInt64(&total)
		mu.Unlock()
		if sum != t {
			fmt.Printf("FAIL count %d: counters sum to %d, total %d\n", i, sum, t)
			os.Exit(1)
		}
		select {
		case <-progress:
		case <-time.After(5 * time.Second):
			fmt.Printf("FAIL count %d: no goroutine made progress in 5 s\n", i)
			os.Exit(1)
		}
		if os.Getpid() != pid {
			fmt.Printf("FAIL pid %d, was %d\n", os.Getpid(), pid)
			os.Exit(1)
		}
		fmt.Printf("count %d\n", i)
	}
	fmt.Printf("PASS pid %d total %d\n", pid, atomic.LoadInt64(&total))
}
