package main

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// Cost is what one run of a CPU-bound step cost the process.
//
// CPU is the user plus system CPU time of the whole process (getrusage RUSAGE_SELF) across
// the step, so it includes the garbage collector's work on other threads; callers make sure
// nothing else in the process runs meanwhile. The heap figures come from runtime/metrics
// (/memory/classes/heap/objects:bytes: live objects and dead ones not yet swept), sampled
// every heapSampleEvery while the step runs and once more at its end; the step starts
// after a full collection, so HeapBaseBytes is what the inputs hold.
type Cost struct {
	CPUSeconds  float64 `json:"cpuSeconds"`
	CPUMeasured bool    `json:"cpuMeasured"` // false where getrusage is not available
	WallSeconds float64 `json:"wallSeconds"`
	// HeapBaseBytes is the heap before the step; HeapPeakBytes the largest heap seen during
	// it. HeapPeakBytes - HeapBaseBytes is what the step itself held at its peak.
	HeapBaseBytes uint64 `json:"heapBaseBytes"`
	HeapPeakBytes uint64 `json:"heapPeakBytes"`
	// AllocBytes is the total the step allocated, collected or not.
	AllocBytes uint64 `json:"allocBytes"`
	GCCycles   uint64 `json:"gcCycles"`
	Samples    int    `json:"heapSamples"`
}

// StepHeapBytes is the heap the step held at its peak, above what it started with.
func (c Cost) StepHeapBytes() uint64 {
	if c.HeapPeakBytes < c.HeapBaseBytes {
		return 0
	}
	return c.HeapPeakBytes - c.HeapBaseBytes
}

const heapSampleEvery = time.Millisecond

var costMetrics = []string{
	"/memory/classes/heap/objects:bytes",
	"/gc/heap/allocs:bytes",
	"/gc/cycles/total:gc-cycles",
}

func readCostMetrics(s []metrics.Sample) (heap, allocs, cycles uint64) {
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64(), s[2].Value.Uint64()
}

// measure runs f once and reports its cost. It collects garbage first so that f neither
// pays for nor is credited with garbage made before it.
func measure(f func()) Cost {
	runtime.GC()
	samples := make([]metrics.Sample, len(costMetrics))
	for i, name := range costMetrics {
		samples[i].Name = name
	}
	base, allocs0, cycles0 := readCostMetrics(samples)

	var (
		mu   sync.Mutex
		peak = base
		n    int
	)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		own := make([]metrics.Sample, 1)
		own[0].Name = costMetrics[0]
		tick := time.NewTicker(heapSampleEvery)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				metrics.Read(own)
				v := own[0].Value.Uint64()
				mu.Lock()
				peak, n = max(peak, v), n+1
				mu.Unlock()
			}
		}
	}()

	cpu0, cpuOK := processCPU()
	start := time.Now()
	f()
	wall := time.Since(start)
	cpu1, _ := processCPU()
	heap, allocs1, cycles1 := readCostMetrics(samples)
	close(stop)
	<-done

	mu.Lock()
	defer mu.Unlock()
	return Cost{
		CPUSeconds:    (cpu1 - cpu0).Seconds(),
		CPUMeasured:   cpuOK,
		WallSeconds:   wall.Seconds(),
		HeapBaseBytes: base,
		HeapPeakBytes: max(peak, heap),
		AllocBytes:    allocs1 - allocs0,
		GCCycles:      cycles1 - cycles0,
		Samples:       n + 1,
	}
}
