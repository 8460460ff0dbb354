package scim

import (
	"context"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Per-verb budgets. Databricks may limit each HTTP method of the SCIM API on its own, and
// far below the overall 25 requests per second (unconfirmed figures: GET 20/s, PATCH 2/s,
// POST/PUT/DELETE 5/s, reference §5.3). A client that slows everything down on a 429 and
// then climbs back halves its throughput for every verb and keeps meeting the same limit.
// So every method has a budget of its own, which learns the server's rate for that method
// from its throttled responses:
//
//   - A 429 (or REQUEST_LIMIT_EXCEEDED 500) on a method whose budget has not been
//     throttled yet opens an episode: the budget drops to what got through in the last
//     second, plus one, or by a tenth, whichever is lower, but at most to a quarter. A
//     client that sent faster than the server's rate stays above it, so the next 429
//     follows soon and measures it.
//   - A server-side token bucket that answers 429 is empty (less than one token). So the
//     successes between two 429s of the same method, t seconds apart, are the tokens the
//     bucket gained in between, rate·t, give or take one token; added up over consecutive
//     windows the error stays within one token while the time grows. (successes + 1) /
//     time since the episode began is an upper bound of the server's rate that comes
//     closer with every 429; the budget is set to 98% of it, so that 429s come further
//     and further apart and stop once the bound is within 2% of the rate.
//   - A window in which the method was idle (tokens may have overflowed the server's
//     bucket) teaches nothing: the episode starts again from the current rate, lowered a
//     tenth.
//   - After a quiet spell without throttling the budget grows back slowly towards its
//     ceiling (the configured per-verb limit, else the overall one), so a limit that was
//     raised, or a share of a shared bucket that grew, is found again. Each step opens a
//     new window, since below the server's rate its bucket may have overflowed.
//   - A Retry-After pauses only the method that received it.
//
// 429s that no bucket explains (random refusals, as from a proxy or the emulator's fault
// injection) would drive the budget down window after window, since the server takes a
// fixed share of whatever is sent. A bucket measured this way sends about log₂ of the
// episode's length in 429s; when an episode has had far more (2·log₂(1 + t/½s) + 4), the
// budget calls them noise and grows a quarter at each window instead, until a window in
// which the server took less than half of what was sent shows a rate again.
const (
	// verbWindowMin is the shortest window between two 429s that counts; 429s closer to
	// the one that opened the window come from requests sent at the same time.
	verbWindowMin = 500 * time.Millisecond
	// verbNoisyWindow is the shortest window while the 429s are taken for noise.
	verbNoisyWindow = 2 * time.Second
	// verbIdleGap is how long a method may have nothing in flight or waiting before its
	// current window is void.
	verbIdleGap = time.Second
	// verbQuiet is how long a budget must go without throttling before it grows: short
	// while the budget has only been halved, longer once it has measured the server.
	verbQuietGuess    = time.Second
	verbQuietMeasured = 60 * time.Second
	// verbMargin keeps a measured budget a little below the estimate, which is an upper
	// bound of the server's rate: the server's bucket then keeps a few tokens to absorb
	// requests that the network brings closer together, and 429s stop once the
	// estimate is precise to within the margin.
	verbMargin = 0.98
	// Growth per second after the quiet spell: a share of the ceiling while guessing, a
	// share of the current rate once measured.
	verbGrowthGuess    = 0.10
	verbGrowthMeasured = 0.01
	verbGrowthInterval = 250 * time.Millisecond
	// verbFloor is the least rate a budget learns, in requests per second.
	verbFloor = 0.5
)

// budgets are a transport's request budgets: the overall limiter, an optional shared write
// limiter and one learning budget per HTTP method.
type budgets struct {
	overall     *rate.Limiter
	overallRate float64
	write       *rate.Limiter // nil when no write limit is configured
	verbs       map[string]*verbBudget
}

// newBudgets returns the budgets for an overall rate and burst, a shared write rate (0 for
// none) and configured per-verb ceilings (methods in upper case).
func newBudgets(overall float64, burst int, write float64, perVerb map[string]float64) *budgets {
	b := &budgets{
		overall:     rate.NewLimiter(rate.Limit(overall), burst),
		overallRate: overall,
		verbs:       map[string]*verbBudget{},
	}
	if write > 0 {
		b.write = rate.NewLimiter(rate.Limit(write), int(math.Max(1, math.Ceil(write/5))))
	}
	for _, m := range append(append([]string(nil), methods...), "OTHER") {
		ceiling, configured := overall, false
		if r, ok := perVerb[m]; ok && r < ceiling {
			ceiling, configured = r, true
		}
		b.verbs[m] = newVerbBudget(ceiling, configured)
	}
	return b
}

func (b *budgets) verb(method string) *verbBudget {
	if v, ok := b.verbs[method]; ok {
		return v
	}
	return b.verbs["OTHER"]
}

func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// wait blocks until a request of method may be sent, or ctx is done; sleepFn waits out a
// pending Retry-After. The returned release must be called when the response has arrived
// (or the attempt failed), so that the method's idle spells are known.
func (b *budgets) wait(ctx context.Context, method string, sleepFn func(context.Context, time.Duration) error) (release func(), err error) {
	v := b.verb(method)
	v.busy(time.Now())
	release = func() { v.idle(time.Now()) }
	if pause := v.pause(time.Now()); pause > 0 {
		if err := sleepFn(ctx, pause); err != nil {
			release()
			return nil, err
		}
	}
	lims := []*rate.Limiter{v.lim}
	if b.write != nil && isWrite(method) {
		lims = append(lims, b.write)
	}
	lims = append(lims, b.overall)
	for _, l := range lims {
		if err := l.Wait(ctx); err != nil {
			release()
			return nil, err
		}
	}
	return release, nil
}

// throttled records a throttled response to method, with the Retry-After it carried (0
// when none).
func (b *budgets) throttled(method string, now time.Time, retryAfter time.Duration) {
	b.verb(method).throttled(now, retryAfter)
}

// succeeded records a successful response to method.
func (b *budgets) succeeded(method string, now time.Time) {
	b.verb(method).succeeded(now)
}

// rates returns the budget of every method below the overall rate: the configured ones
// and those that throttling lowered.
func (b *budgets) rates() map[string]float64 {
	out := map[string]float64{}
	for m, v := range b.verbs {
		if r := v.limit(); r < b.overallRate {
			out[m] = r
		}
	}
	return out
}

// verbBudget is the learning budget of one HTTP method.
type verbBudget struct {
	lim        *rate.Limiter
	ceiling    float64
	configured bool

	mu      sync.Mutex
	current float64
	// The episode: windowStart is the 429 that opened the current window (zero when the
	// budget has not been throttled since it last reached its ceiling); windowOK the
	// successes since; pooledOK and pooledSeconds the closed windows of the episode.
	windowStart   time.Time
	windowOK      float64
	pooledOK      float64
	pooledSeconds float64
	voided        bool // the method was idle during the current window
	probing       bool // the window was opened by growth, not by a 429
	// episodeThrottled counts the 429s since the episode's first window closed; noisy is
	// set when they are too many for a bucket: random refusals, which lower nothing.
	episodeThrottled int
	noisy            bool
	lastThrottle     time.Time
	lastIncrease     time.Time
	pauseUntil       time.Time
	active           int       // requests waiting or in flight
	idleSince        time.Time // when active last fell to zero
	// Successes per second: the count in the second that began at secondStart, and in
	// the one before it.
	secondStart          time.Time
	thisSecond, previous float64
}

func newVerbBudget(ceiling float64, configured bool) *verbBudget {
	return &verbBudget{
		lim:        rate.NewLimiter(rate.Limit(ceiling), verbBurst(ceiling)),
		ceiling:    ceiling,
		configured: configured,
		current:    ceiling,
	}
}

// verbBurst is one request: a method's requests are spaced evenly, so that a server
// bucket of that method's rate refuses none of the first ones (the overall limiter keeps
// its burst for a mix of methods).
func verbBurst(float64) int { return 1 }

func (v *verbBudget) limit() float64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.current
}

func (v *verbBudget) pause(now time.Time) time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.pauseUntil.Sub(now)
}

func (v *verbBudget) busy(now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.active == 0 && !v.idleSince.IsZero() && now.Sub(v.idleSince) > verbIdleGap {
		v.voided = true
	}
	v.active++
}

func (v *verbBudget) idle(now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.active--
	if v.active == 0 {
		v.idleSince = now
	}
}

func (v *verbBudget) set(now time.Time, r float64) {
	v.current = math.Min(v.ceiling, math.Max(math.Min(verbFloor, v.ceiling), r))
	v.lim.SetLimitAt(now, rate.Limit(v.current))
	v.lim.SetBurstAt(now, verbBurst(v.current))
}

// count records a success at now in the per-second counts.
func (v *verbBudget) count(now time.Time) {
	v.roll(now)
	v.thisSecond++
}

func (v *verbBudget) roll(now time.Time) {
	switch d := now.Sub(v.secondStart); {
	case d < time.Second:
	case d < 2*time.Second:
		v.previous, v.thisSecond = v.thisSecond, 0
		v.secondStart = v.secondStart.Add(time.Second)
	default:
		v.previous, v.thisSecond = 0, 0
		v.secondStart = now
	}
}

// lastSecond estimates the successes in the second before now.
func (v *verbBudget) lastSecond(now time.Time) float64 {
	v.roll(now)
	part := now.Sub(v.secondStart).Seconds()
	return v.thisSecond + v.previous*(1-part)
}

func (v *verbBudget) throttled(now time.Time, retryAfter time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if until := now.Add(retryAfter); retryAfter > 0 && until.After(v.pauseUntil) {
		v.pauseUntil = until
	}
	v.lastThrottle, v.lastIncrease = now, now
	if v.pooledSeconds > 0 {
		v.episodeThrottled++
	}
	switch {
	case v.windowStart.IsZero() || (v.probing && v.pooledSeconds == 0):
		v.set(now, math.Min(v.current*0.9, math.Max(v.current/4, v.lastSecond(now)+1)))
		v.restart(now)
	case v.probing:
		// Growing found the server's rate again: back to the measured rate, and the
		// window from this 429 (the server's bucket is empty now) measures on.
		v.set(now, verbMargin*(v.pooledOK+1)/v.pooledSeconds)
		v.windowStart, v.windowOK, v.probing, v.voided = now, 0, false, false
	case now.Sub(v.windowStart) < verbWindowMin:
		// A 429 of the same burst as the one that opened the window.
	case v.noisy && now.Sub(v.windowStart) < verbNoisyWindow:
		// Random refusals are judged over longer windows.
	case v.voided:
		v.set(now, v.current*0.9)
		v.restart(now)
	default:
		t := now.Sub(v.windowStart).Seconds()
		got := v.windowOK / t
		v.windowStart, v.windowOK = now, 0
		if v.noisy {
			if got < 0.5*v.current {
				// The server takes far less than is sent: a rate again.
				v.set(now, math.Min(v.current*0.9, got+1))
				v.restart(now)
				return
			}
			v.set(now, v.current*1.25)
			return
		}
		if v.pooledSeconds > 0 && float64(v.episodeThrottled) > 2*math.Log2(1+v.pooledSeconds/verbWindowMin.Seconds())+4 {
			// Far more 429s than a bucket at the measured rate sends: they are random.
			v.noisy = true
			v.set(now, v.current*1.25)
			return
		}
		v.pooledOK += got * t
		v.pooledSeconds += t
		v.set(now, verbMargin*(v.pooledOK+1)/v.pooledSeconds)
	}
}

// restart opens a new episode at now.
func (v *verbBudget) restart(now time.Time) {
	v.windowStart, v.windowOK = now, 0
	v.pooledOK, v.pooledSeconds, v.episodeThrottled = 0, 0, 0
	v.voided, v.probing, v.noisy = false, false, false
}

func (v *verbBudget) succeeded(now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.count(now)
	if !v.windowStart.IsZero() {
		v.windowOK++
	}
	if v.current >= v.ceiling {
		return
	}
	measured := v.pooledSeconds > 0
	quiet := verbQuietGuess
	if measured {
		quiet = verbQuietMeasured
	}
	if now.Sub(v.lastThrottle) < quiet {
		return
	}
	elapsed := now.Sub(v.lastIncrease)
	if elapsed < verbGrowthInterval {
		return
	}
	// A method that was not used for a while grows by one step, not by the whole spell.
	elapsed = min(elapsed, 4*verbGrowthInterval)
	step := verbGrowthGuess * v.ceiling
	if measured {
		step = verbGrowthMeasured * v.current
	}
	v.set(now, v.current+step*elapsed.Seconds())
	v.lastIncrease = now
	if v.current >= v.ceiling {
		v.windowStart = time.Time{}
		return
	}
	// While the budget was below the server's rate the server's bucket may have filled
	// and overflowed: what was counted since the last 429 would understate the rate. The
	// next 429 ends the probe.
	v.windowStart, v.windowOK, v.probing = now, 0, true
}

// parseVerbLimits upper-cases the methods of per-verb limits and refuses unknown methods
// and rates that are not positive.
func parseVerbLimits(in map[string]float64) (map[string]float64, error) {
	out := map[string]float64{}
	keys := make([]string, 0, len(in))
	for m := range in {
		keys = append(keys, m)
	}
	sort.Strings(keys)
	for _, m := range keys {
		r := in[m]
		u := strings.ToUpper(m)
		known := false
		for _, k := range methods {
			known = known || k == u
		}
		if !known {
			return nil, &limitError{method: m, reason: "is not one of GET, POST, PUT, PATCH, DELETE"}
		}
		if !(r > 0) || math.IsInf(r, 0) {
			return nil, &limitError{method: m, reason: "must be a positive number of requests per second"}
		}
		out[u] = r
	}
	return out, nil
}

type limitError struct{ method, reason string }

func (e *limitError) Error() string { return "rate limit for " + e.method + " " + e.reason }
