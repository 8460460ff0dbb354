package emulator

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter bool
		rate       float64
		burst      int
		wantHeader string
	}{
		{"without Retry-After", false, 2, 2, ""},
		{"with Retry-After", true, 2, 2, "1"},
		{"Retry-After rounds up", true, 0.2, 1, "5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			c := newClient(t, Options{RateLimit: tt.rate, Burst: tt.burst, RetryAfter: tt.retryAfter, Now: clk.Now})
			for range tt.burst {
				c.do("GET", c.acct("Users"), nil).must(t, 200)
			}
			r := c.do("GET", c.acct("Users"), nil)
			r.wantSCIMError(t, 429, "", "Too many requests")
			if got := r.header.Get("Retry-After"); got != tt.wantHeader {
				t.Errorf("Retry-After %q, want %q", got, tt.wantHeader)
			}
			// A rejected request takes no token: after the advertised wait one passes.
			clk.Advance(time.Duration(float64(time.Second) / tt.rate))
			c.do("GET", c.acct("Users"), nil).must(t, 200)
			c.do("GET", c.acct("Users"), nil).must(t, 429)
			if n := c.ts.Counters().TooManyRequests; n != 2 {
				t.Errorf("TooManyRequests %d, want 2", n)
			}
		})
	}
}

func TestDefaultRateLimit(t *testing.T) {
	clk := newClock()
	c := newClient(t, Options{Now: clk.Now})
	for range 25 {
		c.do("GET", c.acct("Users"), nil).must(t, 200)
	}
	c.do("GET", c.acct("Users"), nil).must(t, 429)
	clk.Advance(40 * time.Millisecond) // one token at 25 rps
	c.do("GET", c.acct("Users"), nil).must(t, 200)
}

func TestVerbRateLimit(t *testing.T) {
	clk := newClock()
	c := newClient(t, Options{RateLimit: -1, VerbRateLimits: map[string]float64{"patch": 1}, RetryAfter: true, Now: clk.Now})
	id := c.createUser("u@x.com")
	body := patchOps(map[string]any{"op": "replace", "path": "active", "value": "false"})
	c.do("PATCH", c.acct("Users/"+id), body).must(t, 200)
	r := c.do("PATCH", c.acct("Users/"+id), body).must(t, 429)
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	for range 10 {
		c.do("GET", c.acct("Users/"+id), nil).must(t, 200)
	}
	clk.Advance(time.Second)
	c.do("PATCH", c.acct("Users/"+id), body).must(t, 200)
}

func TestMaxConcurrent(t *testing.T) {
	c := newClient(t, fast(Options{MaxConcurrent: 2, Latency: 300 * time.Millisecond}))
	var wg sync.WaitGroup
	replies := make([]reply, 6)
	for i := range replies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = c.do("GET", c.acct("Users"), nil)
		}()
	}
	wg.Wait()
	var ok, limited int
	for _, r := range replies {
		switch r.status {
		case 200:
			ok++
		case 500:
			limited++
			if r.str("detail") != "REQUEST_LIMIT_EXCEEDED: Workspace 1001 exceeded the concurrent limit of 2 requests." || r.str("status") != "500" {
				t.Errorf("500 body %s", r.raw)
			}
		default:
			t.Errorf("status %d", r.status)
		}
	}
	if ok < 1 || limited < 1 {
		t.Errorf("%d ok, %d limited; want both", ok, limited)
	}
	cs := c.ts.Counters()
	if cs.ConcurrencyRejected != limited || cs.MaxInFlight < 3 {
		t.Errorf("counters %+v", cs)
	}
}

func TestLatency(t *testing.T) {
	c := newClient(t, fast(Options{Latency: 30 * time.Millisecond, LatencyJitter: 10 * time.Millisecond}))
	c.do("GET", c.acct("Users"), nil).must(t, 200)
	if d := c.ts.Requests()[0].Duration; d < 30*time.Millisecond {
		t.Errorf("request took %v, want at least the latency", d)
	}
}

// rawDo sends a request on a fresh connection and returns the transport error, if any.
func rawDo(c *client, method, path, body string) (*http.Response, error) {
	req, _ := http.NewRequest(method, c.ts.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := hc.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults Faults
		status int
		detail string
	}{
		{"503", Faults{Rate503: 1}, 503, "temporarily unavailable"},
		{"500 request limit", Faults{RateLimit500: 1}, 500, "REQUEST_LIMIT_EXCEEDED: Workspace 1001 exceeded the concurrent limit of 4 requests."},
		{"429 without Retry-After", Faults{Rate429: 1}, 429, "Too many requests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, fast(Options{Faults: tt.faults, RetryAfter: true}))
			r := c.do("GET", c.acct("Users"), nil)
			r.wantSCIMError(t, tt.status, "", tt.detail)
			if r.header.Get("Retry-After") != "" {
				t.Errorf("injected fault sent Retry-After")
			}
			if got := c.ts.Requests()[0].Fault; got == "" {
				t.Errorf("fault not logged")
			}
			c.ts.SetFaults(Faults{})
			c.do("GET", c.acct("Users"), nil).must(t, 200)
			if n := c.ts.Counters().FaultsInjected; n != 1 {
				t.Errorf("FaultsInjected %d, want 1", n)
			}
		})
	}

	t.Run("reset", func(t *testing.T) {
		c := newClient(t, fast(Options{Faults: Faults{RateReset: 1}}))
		if _, err := rawDo(c, "GET", c.acct("Users"), ""); err == nil {
			t.Fatal("request succeeded through a reset")
		}
		reqs := c.ts.Requests()
		if len(reqs) != 1 || reqs[0].Fault != FaultReset || reqs[0].Status != 0 {
			t.Errorf("log %+v", reqs)
		}
		// Nothing was done.
		c.ts.SetFaults(Faults{})
		if _, err := rawDo(c, "POST", c.acct("Users"), `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x@x.com"}`); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("create drop", func(t *testing.T) {
		c := newClient(t, fast(Options{Faults: Faults{RateCreateDrop: 1}}))
		if _, err := rawDo(c, "POST", c.acct("Users"), `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"dropped@x.com"}`); err == nil {
			t.Fatal("create answered despite the drop")
		}
		// The create was committed.
		got := c.do("GET", c.acct("Users")+"?filter="+q(`userName eq "dropped@x.com"`), nil).must(t, 200).list()
		if len(got) != 1 {
			t.Fatalf("dropped create not committed: %v", got)
		}
		// Other requests are not dropped; a failed create is answered.
		c.do("POST", c.acct("Users"), map[string]any{"userName": "dropped@x.com"}).must(t, 409)
		id := got[0]["id"].(string)
		c.do("PATCH", c.acct("Users/"+id), patchOps(map[string]any{"op": "replace", "path": "active", "value": "false"})).must(t, 200)
		cs := c.ts.Counters()
		if cs.Faults[FaultCreateDrop] != 1 {
			t.Errorf("faults %v", cs.Faults)
		}
		if r := c.ts.Requests()[0]; r.Fault != FaultCreateDrop || r.Status != 201 {
			t.Errorf("logged %+v", r)
		}
	})

	t.Run("seeded and reproducible", func(t *testing.T) {
		run := func() string {
			c := newClient(t, fast(Options{Seed: 42, Faults: Faults{Rate503: 0.3, Rate429: 0.2}}))
			var b strings.Builder
			for range 40 {
				b.WriteString(itoa(int64(c.do("GET", c.acct("Users"), nil).status)))
				b.WriteByte(' ')
			}
			return b.String()
		}
		a, b := run(), run()
		if a != b {
			t.Errorf("same seed, different faults:\n%s\n%s", a, b)
		}
		if !strings.Contains(a, "200") || !strings.Contains(a, "503") || !strings.Contains(a, "429") {
			t.Errorf("expected a mix of outcomes: %s", a)
		}
	})
}

func TestRequestLog(t *testing.T) {
	c := newClient(t, fast(Options{}))
	c.do("POST", c.acct("Users"), map[string]any{"userName": "secret@x.com"}).must(t, 201)
	c.inWorkspace("1001").do("GET", wsp("Users")+"?count=5", nil).must(t, 200)
	reqs := c.ts.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests logged", len(reqs))
	}
	if r := reqs[0]; r.Method != "POST" || r.Path != c.acct("Users") || r.Status != 201 || r.Time.IsZero() {
		t.Errorf("first entry %+v", r)
	}
	if r := reqs[1]; r.Query != "count=5" || r.Host != hostName(c.ts.WorkspaceHost("1001")) || r.Status != 200 {
		t.Errorf("second entry %+v", r)
	}
	cs := c.ts.Counters()
	if cs.Requests != 2 || cs.ByMethod["POST"] != 1 || cs.ByStatus[200] != 1 || cs.ByStatus[201] != 1 {
		t.Errorf("counters %+v", cs)
	}
	if c.ts.RequestCount("post") != 1 || c.ts.RequestCount() != 2 {
		t.Errorf("RequestCount %d %d", c.ts.RequestCount("post"), c.ts.RequestCount())
	}
	c.ts.Reset()
	if c.ts.RequestCount() != 0 || c.ts.Counters().Requests != 0 {
		t.Errorf("Reset left entries")
	}
	if len(c.ts.State().Users) != 2 {
		t.Errorf("Reset touched the store")
	}
}

// TestOnRequest checks that the hook sees every request before it is acted on: the hook
// of a create runs while the user does not exist yet, and sees no status.
func TestOnRequest(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []Request
		ts   *TestServer
	)
	existed := false
	c := newClient(t, fast(Options{OnRequest: func(r Request) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r)
		if r.Method == "POST" {
			existed = len(ts.ManagedState().Users) > 0
		}
	}}))
	ts = c.ts
	c.do("POST", c.acct("Users"), map[string]any{"userName": "hook@x.com"}).must(t, 201)
	c.inWorkspace("1001").do("GET", wsp("Users")+"?count=5", nil).must(t, 200)
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Fatalf("hook saw %d requests, want 2", len(seen))
	}
	if r := seen[0]; r.Method != "POST" || r.Path != c.acct("Users") || r.Status != 0 || r.Time.IsZero() {
		t.Errorf("first request seen as %+v", r)
	}
	if r := seen[1]; r.Query != "count=5" || r.Host != hostName(c.ts.WorkspaceHost("1001")) {
		t.Errorf("second request seen as %+v", r)
	}
	if existed {
		t.Error("the hook of a create ran after the user was created")
	}
}
