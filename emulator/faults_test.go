package emulator

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scimsync/scimsync/model"
)

// TestFaultsAfterCommit: each fault after commit does the write and spoils only its answer;
// refusals do nothing.
func TestFaultsAfterCommit(t *testing.T) {
	activeOf := func(c *client, id string) any {
		return c.do("GET", c.acct("Users/"+id), nil).must(t, 200).body["active"]
	}
	deactivate := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":"false"}]}`
	tests := []struct {
		fault      string
		wantStatus int    // 0: no response at all
		wantBody   string // part of the body
		committed  bool
	}{
		{FaultWriteDrop, 0, "", true},
		{FaultCommit503, 503, "temporarily unavailable", true},
		{FaultCommit504, 504, "<h1>504 Gateway Timeout</h1>", true},
		{FaultGateway, 502, "<h1>502 Bad Gateway</h1>", false},
		{FaultTruncate, 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			c := newClient(t, fast(Options{}))
			id := c.createUser("a@x.com")
			var f Faults
			if err := f.Set(tt.fault, 1); err != nil {
				t.Fatal(err)
			}
			c.ts.SetFaults(f)
			req, _ := http.NewRequest("PATCH", c.ts.URL+c.acct("Users/"+id), strings.NewReader(deactivate))
			req.Header.Set("Authorization", "Bearer "+c.token)
			req.Header.Set("Content-Type", "application/scim+json")
			resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
			status, body := 0, ""
			if err == nil {
				b, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				if rerr == nil {
					status, body = resp.StatusCode, string(b)
				}
			}
			if status != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
				t.Errorf("answer %d %q (err %v), want %d with %q", status, body, err, tt.wantStatus, tt.wantBody)
			}
			c.ts.SetFaults(Faults{})
			if got := activeOf(c, id) == false; got != tt.committed {
				t.Errorf("committed = %v, want %v", got, tt.committed)
			}
			if n := c.ts.Counters().Faults[tt.fault]; n != 1 {
				t.Errorf("fault counted %d times", n)
			}
		})
	}
	t.Run("gateway alternates 502 and 504", func(t *testing.T) {
		c := newClient(t, fast(Options{Faults: Faults{RateGateway: 1}}))
		var got []int
		for range 2 {
			resp, err := http.Get(c.ts.URL + c.acct("Users"))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, resp.StatusCode)
			if ct := resp.Header.Get("Content-Type"); ct != "text/html" {
				t.Errorf("Content-Type %q", ct)
			}
			resp.Body.Close()
		}
		if got[0]+got[1] != 502+504 {
			t.Errorf("statuses %v", got)
		}
	})
	t.Run("slow commit outlasts a client timeout", func(t *testing.T) {
		c := newClient(t, fast(Options{SlowCommit: 300 * time.Millisecond}))
		id := c.createUser("a@x.com")
		c.ts.SetFaults(Faults{RateSlowCommit: 1})
		req, _ := http.NewRequest("PATCH", c.ts.URL+c.acct("Users/"+id), strings.NewReader(deactivate))
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Content-Type", "application/json")
		if _, err := (&http.Client{Timeout: 50 * time.Millisecond}).Do(req); err == nil {
			t.Fatal("the client did not time out")
		}
		c.ts.SetFaults(Faults{})
		if activeOf(c, id) != false {
			t.Error("the slow write was not committed")
		}
	})
	t.Run("429 with Retry-After", func(t *testing.T) {
		c := newClient(t, fast(Options{Faults: Faults{Rate429RetryAfter: 1}}))
		r := c.do("GET", c.acct("Users"), nil).must(t, 429)
		if r.header.Get("Retry-After") != "1" {
			t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
		}
	})
	t.Run("unknown fault name", func(t *testing.T) {
		var f Faults
		if err := f.Set("teapot", 0.5); err == nil || !strings.Contains(err.Error(), "unknown fault") {
			t.Errorf("err %v", err)
		}
		if err := f.Set(Fault503, 2); err == nil {
			t.Error("rate 2 accepted")
		}
	})
}

// TestConcurrencyStatus: the concurrent-request limit answers 500 or 429 (§5.3).
func TestConcurrencyStatus(t *testing.T) {
	for _, status := range []int{500, 429} {
		c := newClient(t, fast(Options{MaxConcurrent: 1, ConcurrencyStatus: status, Latency: 200 * time.Millisecond}))
		done := make(chan int)
		go func() { done <- c.do("GET", c.acct("Users"), nil).status }()
		time.Sleep(50 * time.Millisecond)
		second := c.do("GET", c.acct("Users"), nil)
		if <-done != 200 {
			t.Errorf("first request refused")
		}
		if second.status != status || !strings.Contains(second.str("detail"), "exceeded the concurrent limit of 1 requests") {
			t.Errorf("second: %d %s, want %d", second.status, second.raw, status)
		}
	}
}

// TestListBehaviours: overlapping pages, the whole collection past the end, a lying
// totalResults and delayed visibility after create.
func TestListBehaviours(t *testing.T) {
	page := func(c *client, start, count int) (total, echo int, ids []string) {
		r := c.do("GET", c.acct("Users")+"?startIndex="+itoa(int64(start))+"&count="+itoa(int64(count)), nil).must(t, 200)
		for _, u := range r.list() {
			ids = append(ids, u["userName"].(string))
		}
		return int(r.body["totalResults"].(float64)), int(r.body["startIndex"].(float64)), ids
	}
	seed := func(o Options) *client {
		c := newClient(t, fast(o))
		if _, err := c.ts.Seed(usersState(4)); err != nil {
			t.Fatal(err)
		}
		return c
	}
	t.Run("overlap", func(t *testing.T) {
		c := seed(Options{PageOverlap: 1})
		_, echo, ids := page(c, 3, 2)
		if echo != 2 || len(ids) != 2 || ids[0] != "u00000@example.com" {
			t.Errorf("echo %d ids %v", echo, ids)
		}
	})
	t.Run("repeat past end", func(t *testing.T) {
		c := seed(Options{RepeatPastEnd: true})
		_, echo, ids := page(c, 9, 100)
		if echo != 9 || len(ids) != 5 {
			t.Errorf("echo %d ids %v", echo, ids)
		}
	})
	t.Run("lying totalResults", func(t *testing.T) {
		c := seed(Options{TotalResultsOffset: 10})
		if total, _, ids := page(c, 1, 100); total != 15 || len(ids) != 5 {
			t.Errorf("total %d, %d ids", total, len(ids))
		}
	})
	t.Run("delayed visibility", func(t *testing.T) {
		clk := newClock()
		c := seed(Options{Now: clk.Now, VisibilityDelay: map[string]time.Duration{"Users": 3 * time.Second}})
		id := c.createUser("new@x.com")
		gid := c.createGroup("fresh") // groups have no delay
		if total, _, _ := page(c, 1, 100); total != 5 {
			t.Errorf("the new user is listed at once: total %d", total)
		}
		if got := c.do("GET", c.acct("Users")+"?filter="+q(`userName eq "new@x.com"`), nil).must(t, 200).list(); len(got) != 0 {
			t.Errorf("the filter finds the new user at once")
		}
		c.do("GET", c.acct("Users/"+id), nil).must(t, 200)
		c.do("POST", c.acct("Users"), map[string]any{"userName": "new@x.com"}).must(t, 409)
		if got := c.do("GET", c.acct("Groups")+"?filter="+q(`displayName eq "fresh"`), nil).must(t, 200).list(); len(got) != 1 || got[0]["id"] != gid {
			t.Errorf("group hidden: %v", got)
		}
		clk.Advance(3 * time.Second)
		if total, _, _ := page(c, 1, 100); total != 6 {
			t.Errorf("after the delay total %d, want 6", total)
		}
	})
}

// usersState is a state of n users.
func usersState(n int) *model.State { return &model.State{Users: users(n)} }
