package emulator

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimsync/scimsync/model"
)

func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, "127.0.0.1:0", Options{Token: "run-token"}, pw)
		pw.Close()
	}()
	// The lines work as pasted into a shell: unset, then one authorization method
	// exported, and the token offered in a comment.
	env := map[string]string{}
	var unset []string
	tokenHint := ""
	sc := bufio.NewScanner(pr)
	for tokenHint == "" && sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "unset "):
			unset = strings.Fields(line)[1:]
		case strings.HasPrefix(line, "export "):
			k, v, _ := strings.Cut(strings.TrimPrefix(line, "export "), "=")
			env[k] = v
		case strings.HasPrefix(line, "# or a token instead: "):
			tokenHint = line
		default:
			t.Fatalf("unexpected output %q", line)
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	// One credential set: a token besides the OAuth client would make clients refuse (§7).
	wantOverrides := "https://dbc-1001.emulator.invalid=" + env["DATABRICKS_HOST"] + ",https://dbc-1002.emulator.invalid=" + env["DATABRICKS_HOST"]
	if env["DATABRICKS_ACCOUNT_ID"] != DefaultAccountID || env["DATABRICKS_TOKEN"] != "" ||
		env["DATABRICKS_CLIENT_ID"] != DefaultClientID || env["DATABRICKS_CLIENT_SECRET"] != DefaultClientSecret ||
		!strings.HasPrefix(env["DATABRICKS_HOST"], "http://127.0.0.1:") || env["SCIMSYNC_HOST_OVERRIDES"] != wantOverrides ||
		len(unset) == 0 || unset[0] != "DATABRICKS_TOKEN" || !strings.HasSuffix(tokenHint, "export DATABRICKS_TOKEN=run-token") {
		t.Fatalf("environment %v, unset %v, %q", env, unset, tokenHint)
	}
	req, _ := http.NewRequest("GET", env["DATABRICKS_HOST"]+"/api/2.0/accounts/"+DefaultAccountID+"/scim/v2/Users", nil)
	req.Header.Set("Authorization", "Bearer run-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}

	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:8080", ":0", "nonsense"} {
		if err := Run(context.Background(), addr, Options{}, io.Discard); err == nil {
			t.Errorf("Run accepted %q", addr)
		}
	}
}

// TestConcurrentWrites runs creates, PATCHes, lists and deletes at once and checks that
// the store stays consistent (run it with -race).
func TestConcurrentWrites(t *testing.T) {
	c := newClient(t, fast(Options{}))
	gid := c.createGroup("shared")
	var wg sync.WaitGroup
	ids := make([]string, 40)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.do("POST", c.acct("Users"), map[string]any{"userName": fmt.Sprintf("c%d@x.com", i)})
			if r.status != 201 {
				t.Errorf("create %d: %d", i, r.status)
				return
			}
			ids[i] = r.str("id")
			c.do("PATCH", c.acct("Groups/"+gid), patchOps(map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": ids[i]}}}))
			c.do("GET", c.acct("Users")+"?count=7", nil)
			c.inWorkspace("1001").do("GET", wsp("Groups"), nil)
			if i%2 == 0 {
				c.do("DELETE", c.acct("Users/"+ids[i]), nil)
			}
		}()
	}
	wg.Wait()
	st := c.ts.ManagedState()
	if len(st.Users) != 20 {
		t.Errorf("%d users left, want 20", len(st.Users))
	}
	if len(st.Groups) != 1 || len(st.Groups[0].Members.Users) != 20 {
		t.Errorf("shared group %+v", st.Groups)
	}
}

// TestHundredThousandUsers checks that a large store is served correctly: key lookups
// through filters and pages at the far end.
func TestHundredThousandUsers(t *testing.T) {
	if testing.Short() {
		t.Skip("large seed")
	}
	c := newClient(t, fast(Options{MaxPrincipals: -1}))
	many := make([]model.User, 100000)
	for i := range many {
		many[i] = model.User{UserName: fmt.Sprintf("user%06d@example.com", i), Active: true}
	}
	out, err := c.ts.Seed(&model.State{Users: many})
	if err != nil {
		t.Fatal(err)
	}
	r := c.do("GET", c.acct("Users")+"?filter="+q(`userName eq "USER099999@example.com"`), nil).must(t, 200)
	if l := r.list(); len(l) != 1 || l[0]["id"] != out.Users[99999].ID {
		t.Errorf("lookup by userName: %.300s", r.raw)
	}
	r = c.do("GET", c.acct("Users")+"?startIndex=99990&count=100&attributes=userName", nil).must(t, 200)
	if l := r.list(); len(l) != 12 || int(r.body["totalResults"].(float64)) != 100001 {
		t.Errorf("last page has %d users of %v", len(l), r.body["totalResults"])
	}
	c.do("DELETE", c.acct("Users/"+out.Users[5].ID), nil).must(t, 204)
	r = c.do("GET", c.acct("Users")+"?count=0", nil).must(t, 200)
	if int(r.body["totalResults"].(float64)) != 100000 {
		t.Errorf("after a delete totalResults %v", r.body["totalResults"])
	}
}
