package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/model"
)

// pagedUsers serves n users (ids 1..n) in pages. The page function may change what a page
// holds and which startIndex is echoed.
func pagedUsers(n int, page func(start, count int) (echo, from, to int)) http.HandlerFunc {
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
		_ = json.NewEncoder(w).Encode(ListResponse[User]{TotalResults: n, StartIndex: echo, ItemsPerPage: 0, Resources: res})
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
		wantStarts  []int
		wantIDs     []string
		wantErrText string
	}{
		"plain pages, then an empty page": {
			page:       func(s, c int) (int, int, int) { return s, s, s + c },
			wantStarts: []int{1, 11, 21, 26},
			wantIDs:    seq(1, 25),
		},
		"server clamps count to 7 and echoes startIndex": {
			page:       func(s, c int) (int, int, int) { return s, s, s + 7 },
			wantStarts: []int{1, 8, 15, 22, 26},
			wantIDs:    seq(1, 25),
		},
		"overlapping pages are de-duplicated by id": {
			// Each page after the first starts two items early and says so; the last
			// page brings nothing new and does not advance, which ends the list because
			// totalResults objects were read.
			page: func(s, c int) (int, int, int) {
				if s > 1 {
					s -= 2
				}
				return s, s, s + c
			},
			wantStarts: []int{1, 11, 19, 26},
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
			wantStarts: []int{1, 11, 21, 27},
			wantIDs:    seq(1, 25),
		},
		"server that does not echo startIndex": {
			page:       func(s, c int) (int, int, int) { return 0, s, s + c },
			wantStarts: []int{1, 11, 21, 26},
			wantIDs:    seq(1, 25),
		},
		"server that ignores startIndex is an error, not a loop": {
			page:        func(s, c int) (int, int, int) { return 1, 1, 1 + c },
			wantStarts:  []int{1, 11},
			wantErrText: "paging cannot advance",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, rec, _ := testClient(t, model.LevelAccount, pagedUsers(25, tc.page), nil)
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

func TestListCountIsAPageSizeNotACap(t *testing.T) {
	c, rec, _ := testClient(t, model.LevelAccount, pagedUsers(25, func(s, c int) (int, int, int) { return s, s, s + c }), func(cfg *Config) { cfg.PageSize = 3 })
	users, err := c.Users().List(context.Background(), ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 25 || len(rec.requests()) != 10 {
		t.Errorf("got %d users in %d requests, want 25 in 10 (9 pages and an empty one)", len(users), len(rec.requests()))
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
		_ = json.NewEncoder(w).Encode(map[string]any{"startIndex": 1, "Resources": res})
	}
}

func TestGroupMembersFetchedOnlyWhenTheListLacksThem(t *testing.T) {
	t.Run("list without members", func(t *testing.T) {
		c, rec, _ := testClient(t, model.LevelAccount, groupServer(4, false), nil)
		groups, err := c.listGroupsWithMembers(context.Background(), c.home, groupAttributes)
		if err != nil {
			t.Fatal(err)
		}
		if n := rec.count(http.MethodGet, "/Groups"); n != 2 {
			t.Errorf("list requests = %d, want 2", n)
		}
		if n := len(rec.requests()) - 2; n != 4 {
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
		if n := len(rec.requests()); n != 2 {
			t.Errorf("requests = %d, want the 2 list requests and no member reads", n)
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
