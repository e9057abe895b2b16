// bench/ additions: per-push latencies, p99/p99.9, PAUSE_DUMP exceedance curve, check line
// (same formats as pause.c).
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"
)

func main() {
	W, S, N := 200000, 1024, 1000000
	if len(os.Args) > 3 { W, _ = strconv.Atoi(os.Args[1]); S, _ = strconv.Atoi(os.Args[2]); N, _ = strconv.Atoi(os.Args[3]) }
	lat := make([]float32, N)
	win := make([][]byte, W)
	var worst time.Duration
	slow := 0
	t0 := time.Now()
	for i := 0; i < N; i++ {
		t := time.Now()
		m := make([]byte, S)
		for j := range m { m[j] = byte(i) }
		win[i%W] = m
		d := time.Since(t)
		lat[i] = float32(float64(d) / 1e6)
		if d > worst { worst = d }
		if d > time.Millisecond { slow++ }
	}
	total := float64(time.Since(t0)) / 1e6
	fmt.Printf("window %d x %d B, %d pushes: worst push %.2f ms, pushes over 1 ms %d, total %.0f ms\n", W, S, N, float64(worst)/1e6, slow, total)
	sum := 0
	for _, m := range win { if m != nil { sum += int(m[0]) } }
	sort.Slice(lat, func(a, b int) bool { return lat[a] > lat[b] })
	fmt.Printf("stats: worst_ms=%.3f over_1ms=%d p99_ms=%.4f p999_ms=%.4f total_ms=%.0f\n", float64(worst)/1e6, slow, lat[N/100], lat[N/1000], total)
	fmt.Printf("check: window %d x %d B, %d pushes, sum %d\n", W, S, N, sum)
	if dump := os.Getenv("PAUSE_DUMP"); dump != "" {
		f, err := os.Create(dump)
		if err != nil { fmt.Fprintln(os.Stderr, err); os.Exit(1) }
		fmt.Fprintf(f, "# fraction_of_pushes_slower latency_ms (W=%d S=%d N=%d scanned=0)\n", W, S, N)
		for k := 1; k <= N; {
			fmt.Fprintf(f, "%.9g %.6g\n", float64(k)/float64(N), lat[k-1])
			nk := int(float64(k) * 1.01)
			if nk <= k { nk = k + 1 }
			k = nk
		}
		f.Close()
	}
}
