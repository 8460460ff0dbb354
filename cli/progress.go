package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/scimsync/scimsync/scim"
)

// DefaultProgressInterval is how often a line of progress is printed on a stderr that is
// not a terminal (a CI log), where the progress bar would be noise.
const DefaultProgressInterval = 5 * time.Second

// ticker prints the line that line returns on w at every tick, until stopped. Lines are
// whole, so that logs written to the same stream do not interleave with them.
type ticker struct {
	stop chan struct{}
	done chan struct{}
}

func startTicker(w io.Writer, ticks <-chan time.Time, line func(now time.Time) string) *ticker {
	t := &ticker{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(t.done)
		for {
			select {
			case now := <-ticks:
				fmt.Fprintln(w, line(now))
			case <-t.stop:
				return
			}
		}
	}()
	return t
}

// Stop stops the ticker and waits until it no longer writes. A nil ticker does nothing.
func (t *ticker) Stop() {
	if t == nil {
		return
	}
	close(t.stop)
	<-t.done
}

// progressTicks returns the ticks of periodic progress lines and a function that releases
// them: nil (no lines) on a terminal, where the bar shows apply's progress, and when the
// interval is 0.
func (rt *Runtime) progressTicks() (<-chan time.Time, func()) {
	if rt.IO.ErrIsTerminal || rt.ProgressInterval <= 0 {
		return nil, func() {}
	}
	tk := time.NewTicker(rt.ProgressInterval)
	return tk.C, tk.Stop
}

// requestRate measures the requests per second between two progress lines.
type requestRate struct {
	requests func() int64
	lastAt   time.Time
	last     int64
}

func newRequestRate(requests func() int64, now time.Time) *requestRate {
	return &requestRate{requests: requests, lastAt: now, last: requests()}
}

// at returns the requests sent so far and their rate since the previous call.
func (r *requestRate) at(now time.Time) (int64, float64) {
	n := r.requests()
	rate := 0.0
	if d := now.Sub(r.lastAt).Seconds(); d > 0 {
		rate = float64(n-r.last) / d
	}
	r.lastAt, r.last = now, n
	return n, rate
}

// readLine describes how far a read of the live state has come: the objects listed, the
// groups whose members were read one by one (with an ETA, as their number is known once
// the group lists are read), the requests and their rate.
func readLine(what string, start, now time.Time, p scim.ReadProgress, requests int64, rate float64) string {
	line := fmt.Sprintf("scimsync: %s: %d objects listed", what, p.Listed)
	if p.MembersToRead > 0 {
		line += fmt.Sprintf(", members of %d/%d groups read", p.MembersRead, p.MembersToRead)
	}
	line += fmt.Sprintf(", %d requests, %.1f requests/s, %s elapsed", requests, rate, now.Sub(start).Round(time.Second))
	if left := p.MembersToRead - p.MembersRead; left > 0 && rate > 0 {
		line += fmt.Sprintf(", ETA %s", (time.Duration(float64(left) / rate * float64(time.Second))).Round(time.Second))
	}
	return line
}

// watchRead prints a progress line of a read by client every interval, when stderr is not
// a terminal, until the returned function is called.
func (rt *Runtime) watchRead(what string, client *scim.Client) func() {
	ticks, release := rt.progressTicks()
	if ticks == nil {
		return release
	}
	start := time.Now()
	rate := newRequestRate(func() int64 { return client.Stats().Total() }, start)
	t := startTicker(rt.IO.Err, ticks, func(now time.Time) string {
		n, r := rate.at(now)
		return readLine(what, start, now, client.ReadProgress(), n, r)
	})
	return func() {
		t.Stop()
		release()
	}
}

// applyProgress counts the changes an apply has done, for the periodic line.
type applyProgress struct {
	mu          sync.Mutex
	done, total int
}

func (a *applyProgress) update(done, total int) {
	a.mu.Lock()
	a.done, a.total = done, total
	a.mu.Unlock()
}

func (a *applyProgress) get() (int, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.done, a.total
}

// applyLine describes how far an apply has come, with an ETA from the pace so far.
func applyLine(start, now time.Time, done, total int, requests int64, rate float64) string {
	elapsed := now.Sub(start)
	line := fmt.Sprintf("scimsync: applying: %d/%d changes, %d requests, %.1f requests/s, %s elapsed", done, total, requests, rate, elapsed.Round(time.Second))
	if done > 0 && done < total {
		line += fmt.Sprintf(", ETA %s", (elapsed * time.Duration(total-done) / time.Duration(done)).Round(time.Second))
	}
	return line
}

// watchApply prints a progress line of an apply every interval, when stderr is not a
// terminal, until the returned function is called. It returns the callback that apply
// reports its progress to.
func (rt *Runtime) watchApply(client *scim.Client, bar *progress) (func(done, total int), func()) {
	ticks, release := rt.progressTicks()
	if ticks == nil {
		return bar.update, release
	}
	var ap applyProgress
	start := time.Now()
	rate := newRequestRate(func() int64 { return client.Stats().Total() }, start)
	t := startTicker(rt.IO.Err, ticks, func(now time.Time) string {
		n, r := rate.at(now)
		done, total := ap.get()
		return applyLine(start, now, done, total, n, r)
	})
	update := func(done, total int) {
		ap.update(done, total)
		bar.update(done, total)
	}
	return update, func() {
		t.Stop()
		release()
	}
}
