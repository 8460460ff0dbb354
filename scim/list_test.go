package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/model"
)

// pagedUsers serves n users (ids 1..n) in pages. The page function may change what a page
// holds and which startIndex is echoed.
func pagedUsers(n int, page func(start, count int) (echo, from, to int)) http.HandlerFunc {
	return pagedUsersTotal(n, n, page)
}

// pagedUsersTotal is pagedUsers with a totalResults that may differ from n.
func pagedUsersTotal(n, total int, page func(start, count int) (echo, from, to int)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		start, _ := strconv.Atoi(q.Get("startIndex"))
		count, _ := strconv.Atoi(q.Get("count"))
		echo, from, to := page(start, count)
		to = min(to, n+1)
		var res []User
		for i := from; i < to; i++ {
			res = append(res, User{ID: strconv.Itoa(i), UserName: fmt.Sprintf("u%d@example.com", i)})
		}
		_ = json.NewEncoder(w).Encode(ListResponse[User]{TotalResults: total, StartIndex: echo, ItemsPerPage: 0, Resources: res})
	}
}

func startIndexes(rec *recorder) []int {
	var out []int
	for _, r := range rec.requests() {
		q, _ := url.ParseQuery(r.Query)
		i, _ := strconv.Atoi(q.Get("startIndex"))
		out = append(out, i)
	}
	return out
}

func ids(users []User) []string {
	var out []string
	for _, u := range users {
		out = append(out, u.ID)
	}
	return out
}

func seq(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

func TestListPaging(t *testing.T) {
	tests := map[string]struct {
		page        func(start, count int) (echo, from, to int)
		total       int // totalResults; 0 means the 25 users there are
		wantStarts  []int
		wantIDs     []string
		wantErrText string
	}{
		"plain pages; totalResults spares the empty last page": {
			page:       func(s, c int) (int, int, int) { return s, s, s + c },
			wantStarts: []int{1, 11, 21},
			wantIDs:    seq(1, 25),
		},
		"server clamps count to 7 and echoes startIndex": {
			page:       func(s, c int) (int, int, int) { return s, s, s + 7 },
			wantStarts: []int{1, 8, 15, 22},
			wantIDs:    seq(1, 25),
		},
		"overlapping pages are de-duplicated by id": {
			// Each page after the first starts two items early and says so.
			page: func(s, c int) (int, int, int) {
				if s > 1 {
					s -= 2
				}
				return s, s, s + c
			},
			wantStarts: []int{1, 11, 19},
			wantIDs:    seq(1, 25),
		},
		"content shifted between requests (an object inserted in front)": {
			// From the second page on, the server's order has moved by one: item 10
			// comes again at the start of page 2.
			page: func(s, c int) (int, int, int) {
				if s > 1 {
					return s, s - 1, s - 1 + c
				}
				return s, s, s + c
			},
			wantStarts: []int{1, 11, 21},
			wantIDs:    seq(1, 25),
		},
		"server that does not echo startIndex": {
			page:       func(s, c int) (int, int, int) { return 0, s, s + c },
			wantStarts: []int{1, 11, 21},
			wantIDs:    seq(1, 25),
		},
		"server that ignores startIndex is an error, not a loop": {
			page:        func(s, c int) (int, int, int) { return 1, 1, 1 + c },
			wantStarts:  []int{1, 11},
			wantErrText: "the page at startIndex=11 repeats 10 Users already read and adds none, with 10 of 25 read",
		},
		"past the end the whole collection again, with a totalResults that lies high": {
			// The scimmy-like server of issue 13: startIndex beyond the end answers every
			// object again and echoes the startIndex asked for. Before the guard this
			// looped for ever.
			page: func(s, c int) (int, int, int) {
				if s > 25 {
					return s, 1, 26
				}
				return s, s, s + c
			},
			total:       40,
			wantStarts:  []int{1, 11, 21, 26},
			wantErrText: "the page at startIndex=26 repeats 25 Users already read and adds none, with 25 of 40 read",
		},
		"an empty page before totalResults is reached is an error, not the end": {
			page:        func(s, c int) (int, int, int) { return s, s, s + c },
			total:       30,
			wantStarts:  []int{1, 11, 21, 26},
			wantErrText: "counts 30 Users in totalResults but the page at startIndex=26 is empty after 25",
		},
		"a totalResults that lies low is inconsistent": {
			page:        func(s, c int) (int, int, int) { return s, s, s + c },
			total:       15,
			wantStarts:  []int{1, 11},
			wantErrText: "sent 20 different Users but counts 15 in totalResults",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			total := tc.total
			if total == 0 {
				total = 25
			}
			c, rec, _ := testClient(t, model.LevelAccount, pagedUsersTotal(25, total, tc.page), nil)
			users, err := c.Users().List(context.Background(), ListOptions{Count: 10, Attributes: []string{"id", "userName"}})
			if tc.wantErrText != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrText) {
					t.Fatalf("err = %v, want %q", err, tc.wantErrText)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantStarts, startIndexes(rec)); diff != "" {
				t.Errorf("startIndex sequence (-want +got):\n%s", diff)
			}
			if tc.wantErrText == "" {
				if diff := cmp.Diff(tc.wantIDs, ids(users)); diff != "" {
					t.Errorf("ids (-want +got):\n%s", diff)
				}
			}
			for _, r := range rec.requests() {
				q, _ := url.ParseQuery(r.Query)
				if q.Get("count") != "10" || q.Get("attributes") != "id,userName" {
					t.Errorf("query %q: want count=10 and attributes=id,userName", r.Query)
				}
			}
		})
	}
}

// TestListRefusesWhatIsNotAListResponse: a 200 whose body is not a valid, consistent
// ListResponse is an error, never an empty account (issue 18 point 3).
func TestListRefusesWhatIsNotAListResponse(t *testing.T) {
	tests := map[string]struct{ body, wantErr string }{
		"empty body":                       {"", "empty body, not a ListResponse"},
		"blank body":                       {" \n", "empty body, not a ListResponse"},
		"an empty object":                  {"{}", "it has no totalResults"},
		"null":                             {"null", "it has no totalResults"},
		"an array":                         {"[]", "is not a ListResponse"},
		"totalResults and no Resources":    {`{"totalResults":5000}`, "counts 5000 Users but has no Resources"},
		"totalResults and empty Resources": {`{"totalResults":5000,"Resources":[]}`, "counts 5000 Users in totalResults but the page at startIndex=1 is empty"},
		"more resources than counted":      {`{"totalResults":1,"Resources":[{"id":"1"},{"id":"2"}]}`, "has 2 Users but counts only 1"},
		"negative totalResults":            {`{"totalResults":-1,"Resources":[]}`, "negative totalResults"},
		"an object without id":             {`{"totalResults":1,"Resources":[{"userName":"a@x"}]}`, "has no id"},
		"truncated JSON":                   {`{"totalResults":2,"Resources":[{"id":"1"},{"id"`, "is not a ListResponse"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, rec, _ := testClient(t, model.LevelAccount, func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, tc.body)
			}, nil)
			users, err := c.Users().List(context.Background(), ListOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("List = %d users, err %v; want an error containing %q", len(users), err, tc.wantErr)
			}
			if n := len(rec.requests()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
			_, err = c.Users().find(context.Background(), `userName eq "a@x"`)
			if err == nil {
				t.Errorf("find accepted %q", tc.body)
			}
		})
	}
	t.Run("an empty account is fine", func(t *testing.T) {
		for _, body := range []string{`{"totalResults":0}`, `{"totalResults":0,"Resources":[]}`, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}`} {
			c, _, _ := testClient(t, model.LevelAccount, func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, body)
			}, nil)
			if users, err := c.Users().List(context.Background(), ListOptions{}); err != nil || len(users) != 0 {
				t.Errorf("%s: %d users, err %v; want none and no error", body, len(users), err)
			}
		}
	})
}

// TestListStopsAtTheObjectCap: a server that keeps sending fresh pages (and a totalResults
// that keeps growing) is stopped at the object cap, in bounded calls and memory.
func TestListStopsAtTheObjectCap(t *testing.T) {
	var served atomic.Int64
	endless := func(w http.ResponseWriter, r *http.Request) {
		start, _ := strconv.Atoi(r.URL.Query().Get("startIndex"))
		var res []User
		for i := range 100 {
			res = append(res, User{ID: strconv.Itoa(start + i), UserName: fmt.Sprintf("u%d@example.com", start+i)})
		}
		served.Add(1)
		_ = json.NewEncoder(w).Encode(ListResponse[User]{TotalResults: start + 1000, StartIndex: start, Resources: res})
	}
	c, rec, _ := testClient(t, model.LevelAccount, endless, func(cfg *Config) { cfg.MaxListObjects = 1000 })
	_, err := c.Users().List(context.Background(), ListOptions{Count: 100})
	if err == nil || !strings.Contains(err.Error(), "the server sent more than 1000 Users (11 pages)") {
		t.Fatalf("err = %v, want the object cap", err)
	}
	if n := len(rec.requests()); n != 11 {
		t.Errorf("%d requests, want 11", n)
	}
	// The default cap follows the account limits (reference §6).
	c2, _, _ := testClient(t, model.LevelAccount, endless, nil)
	if got := c2.Users().listCap(); got != 20*model.MaxPrincipals {
		t.Errorf("default user cap = %d", got)
	}
	if got := c2.Groups().listCap(); got != 20*model.MaxGroups {
		t.Errorf("default group cap = %d", got)
	}
}

// TestResponseBodyCap: a body beyond MaxResponseBytes is refused at once, not retried.
func TestResponseBodyCap(t *testing.T) {
	big := `{"totalResults":1,"Resources":[{"id":"1","userName":"` + strings.Repeat("a", 4096) + `"}]}`
	c, rec, _ := testClient(t, model.LevelAccount, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, big)
	}, func(cfg *Config) { cfg.MaxResponseBytes = 1024 })
	_, err := c.Users().List(context.Background(), ListOptions{})
	if err == nil || !strings.Contains(err.Error(), "larger than the client accepts (1024 bytes)") {
		t.Fatalf("err = %v", err)
	}
	if n := len(rec.requests()); n != 1 {
		t.Errorf("%d requests, want 1 (not retried)", n)
	}
}

func TestListCountIsAPageSizeNotACap(t *testing.T) {
	c, rec, _ := testClient(t, model.LevelAccount, pagedUsers(25, func(s, c int) (int, int, int) { return s, s, s + c }), func(cfg *Config) { cfg.PageSize = 3 })
	users, err := c.Users().List(context.Background(), ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 25 || len(rec.requests()) != 9 {
		t.Errorf("got %d users in %d requests, want 25 in 9 pages", len(users), len(rec.requests()))
	}
	c2, rec2, _ := testClient(t, model.LevelAccount, pagedUsers(25, func(s, c int) (int, int, int) { return s, s, s + c }), nil)
	if _, err := c2.Users().List(context.Background(), ListOptions{}); err != nil {
		t.Fatal(err)
	}
	q, _ := url.ParseQuery(rec2.requests()[0].Query)
	if q.Get("count") != "10000" || q.Get("startIndex") != "1" {
		t.Errorf("default query %v, want count=10000 startIndex=1", q)
	}
}

// groupServer serves groups 1..n, with members in the list when listMembers is set.
func groupServer(n int, listMembers bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if id, ok := strings.CutPrefix(r.URL.Path, "/api/2.0/accounts/"+testAccount+"/scim/v2/Groups/"); ok {
			if r.URL.Query().Get("attributes") != "members" {
				scimError(w, 400, "want attributes=members")
				return
			}
			if id == "3" {
				scimError(w, 404, "Group 3 not found") // deleted after the list
				return
			}
			_ = json.NewEncoder(w).Encode(Group{ID: id, Members: []ComplexValue{{Value: "u" + id}}})
			return
		}
		var res []map[string]any
		if r.URL.Query().Get("startIndex") == "1" {
			for i := 1; i <= n; i++ {
				g := map[string]any{"id": strconv.Itoa(i), "displayName": fmt.Sprintf("g%d", i)}
				if listMembers && i%2 == 0 { // odd groups have no members and no key
					g["members"] = []ComplexValue{{Value: "u" + strconv.Itoa(i)}}
				}
				res = append(res, g)
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"startIndex": 1, "totalResults": n, "Resources": res})
	}
}

func TestGroupMembersFetchedOnlyWhenTheListLacksThem(t *testing.T) {
	t.Run("list without members", func(t *testing.T) {
		c, rec, _ := testClient(t, model.LevelAccount, groupServer(4, false), nil)
		groups, err := c.listGroupsWithMembers(context.Background(), c.home, groupAttributes)
		if err != nil {
			t.Fatal(err)
		}
		if n := rec.count(http.MethodGet, "/Groups"); n != 1 {
			t.Errorf("list requests = %d, want 1 (totalResults says the first page is all)", n)
		}
		if n := len(rec.requests()) - 1; n != 4 {
			t.Errorf("member reads = %d, want one per group (4)", n)
		}
		got := map[string]string{}
		for _, g := range groups {
			got[g.DisplayName] = strs(g.Members)[0]
		}
		want := map[string]string{"g1": "u1", "g2": "u2", "g4": "u4"} // g3 vanished
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("members (-want +got):\n%s", diff)
		}
	})
	t.Run("list with members", func(t *testing.T) {
		c, rec, _ := testClient(t, model.LevelAccount, groupServer(4, true), nil)
		groups, err := c.listGroupsWithMembers(context.Background(), c.home, groupAttributes)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(rec.requests()); n != 1 {
			t.Errorf("requests = %d, want the one list request and no member reads", n)
		}
		if len(groups) != 4 || len(groups[0].Members) != 0 || strs(groups[1].Members)[0] != "u2" {
			t.Errorf("groups = %+v", groups)
		}
		q, _ := url.ParseQuery(rec.requests()[0].Query)
		if q.Get("attributes") != "id,displayName,externalId,meta,roles,members" {
			t.Errorf("attributes = %q", q.Get("attributes"))
		}
	})
}
