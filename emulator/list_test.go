package emulator

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/model"
)

func TestPagingLargeAccount(t *testing.T) {
	c := newClient(t, fast(Options{MaxPrincipals: 30000, MaxPageSize: 10000}))
	seeded, err := c.ts.Seed(&model.State{Users: users(25000)})
	if err != nil {
		t.Fatal(err)
	}
	total := 25000 + 1 // the token owner
	// The Go SDK's algorithm (§3): startIndex=1, count=10000, next = startIndex+len, stop on
	// an empty page.
	seen := map[string]bool{}
	var last string
	start, pages := 1, 0
	for {
		r := c.do("GET", c.acct("Users")+fmt.Sprintf("?startIndex=%d&count=10000&attributes=id,userName", start), nil).must(t, 200)
		if got := int(r.body["startIndex"].(float64)); got != start {
			t.Fatalf("startIndex echoed %d, want %d", got, start)
		}
		if got := int(r.body["totalResults"].(float64)); got != total {
			t.Fatalf("totalResults %d, want %d", got, total)
		}
		res := r.list()
		if _, ok := r.body["Resources"]; !ok {
			t.Fatalf("no Resources key: %.200s", r.raw)
		}
		if int(r.body["itemsPerPage"].(float64)) != len(res) {
			t.Errorf("itemsPerPage %v, page has %d", r.body["itemsPerPage"], len(res))
		}
		if len(res) == 0 {
			break
		}
		pages++
		for _, u := range res {
			id := u["id"].(string)
			if seen[id] {
				t.Fatalf("id %s on two pages", id)
			}
			if last != "" && !idLess(last, id) {
				t.Fatalf("ids not ascending: %s then %s", last, id)
			}
			if _, ok := u["displayName"]; ok {
				t.Fatalf("attributes=id,userName returned displayName")
			}
			seen[id], last = true, id
		}
		start += len(res)
	}
	if len(seen) != total || pages != 3 {
		t.Errorf("saw %d users in %d pages, want %d in 3", len(seen), pages, total)
	}
	for _, u := range seeded.Users {
		if !seen[u.ID] {
			t.Fatalf("seeded user %s (%s) not listed", u.UserName, u.ID)
		}
	}
}

func idLess(a, b string) bool { return len(a) < len(b) || (len(a) == len(b) && a < b) }

func TestPagingParameters(t *testing.T) {
	c := newClient(t, fast(Options{MaxPageSize: 5, DefaultPageSize: 3}))
	if _, err := c.ts.Seed(&model.State{Users: users(9)}); err != nil {
		t.Fatal(err)
	}
	// 10 users with the token owner.
	tests := []struct {
		query         string
		start, n, ipp int
	}{
		{"", 1, 3, 3},                        // DefaultPageSize
		{"?count=100", 1, 5, 5},              // clamped to MaxPageSize
		{"?startIndex=9&count=5", 9, 2, 2},   // last page
		{"?startIndex=11&count=5", 11, 0, 0}, // past the end: empty Resources
		{"?startIndex=0&count=2", 1, 2, 2},   // below 1 reads as 1
		{"?count=0", 1, 0, 0},                // totalResults only
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := c.do("GET", c.acct("Users")+tt.query, nil).must(t, 200)
			if !strings.Contains(string(r.raw), `"Resources":[`) {
				t.Errorf("Resources missing or null: %.200s", r.raw)
			}
			if got := len(r.list()); got != tt.n {
				t.Errorf("%d resources, want %d", got, tt.n)
			}
			if int(r.body["startIndex"].(float64)) != tt.start || int(r.body["totalResults"].(float64)) != 10 ||
				int(r.body["itemsPerPage"].(float64)) != tt.ipp {
				t.Errorf("page header %v %v %v", r.body["startIndex"], r.body["totalResults"], r.body["itemsPerPage"])
			}
		})
	}
	c.do("GET", c.acct("Users")+"?count=ten", nil).wantSCIMError(t, 400, "invalidValue", "count")
}

func TestAttributes(t *testing.T) {
	c := newClient(t, fast(Options{Level: model.LevelWorkspace}))
	uid := c.do("POST", wsp("Users"), map[string]any{"userName": "u@x.com", "displayName": "U",
		"name": map[string]string{"givenName": "Given", "familyName": "Family"}}).must(t, 201).str("id")
	gid := c.do("POST", wsp("Groups"), map[string]any{"displayName": "g", "members": []map[string]string{{"value": uid}}}).must(t, 201).str("id")
	tests := []struct {
		path, query string
		want        []string // top-level keys, sorted
		check       func(t *testing.T, r map[string]any)
	}{
		{wsp("Users/" + uid), "attributes=userName", []string{"id", "schemas", "userName"}, nil},
		{wsp("Users/" + uid), "attributes=USERNAME,name.givenName", []string{"id", "name", "schemas", "userName"},
			func(t *testing.T, r map[string]any) {
				if n := r["name"].(map[string]any); n["familyName"] != nil || n["givenName"] != "Given" {
					t.Errorf("name %v, want givenName only", n)
				}
			}},
		{wsp("Users/" + uid), "excludedAttributes=name.familyName,emails,groups,entitlements,id",
			[]string{"active", "displayName", "id", "name", "schemas", "userName"},
			func(t *testing.T, r map[string]any) {
				if n := r["name"].(map[string]any); n["familyName"] != nil || n["givenName"] != "Given" {
					t.Errorf("name %v, want givenName only", n)
				}
			}},
		{wsp("Groups/" + gid), "attributes=members.value", []string{"id", "members", "schemas"},
			func(t *testing.T, r map[string]any) {
				m := r["members"].([]any)[0].(map[string]any)
				if len(m) != 1 || m["value"] != uid {
					t.Errorf("member %v, want value only", m)
				}
			}},
		{wsp("Groups"), "filter=" + q(`displayName eq "g"`) + "&attributes=displayName", nil,
			func(t *testing.T, r map[string]any) {
				res := r["Resources"].([]any)[0].(map[string]any)
				if len(res) != 3 || res["displayName"] != "g" {
					t.Errorf("list projection %v", res)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := c.do("GET", tt.path+"?"+tt.query, nil).must(t, 200)
			if tt.want != nil {
				var keys []string
				for k := range r.body {
					keys = append(keys, k)
				}
				if got := strings.Join(sorted(keys), ","); got != strings.Join(tt.want, ",") {
					t.Errorf("keys %s, want %s", got, strings.Join(tt.want, ","))
				}
			}
			if tt.check != nil {
				tt.check(t, r.body)
			}
		})
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestFilters(t *testing.T) {
	c := newClient(t, fast(Options{}))
	st, err := c.ts.Seed(&model.State{
		Users: []model.User{
			{UserName: "alice@example.com", DisplayName: "Alice", Active: true, ExternalID: "ext-a"},
			{UserName: "bob@example.com", DisplayName: "Bob", Active: false},
			{UserName: "carol@other.org", DisplayName: "Carol", Active: true},
		},
		ServicePrincipals: []model.ServicePrincipal{{ApplicationID: "aaaaaaaa-0000-4000-8000-000000000001", DisplayName: "go-sdk-robot", Active: true}},
		Groups:            []model.Group{{DisplayName: "go-sdk-team"}, {DisplayName: "data"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	alice := st.Users[0].ID
	tests := []struct {
		res, filter string
		want        []string // userNames or displayNames
	}{
		{"Users", `userName eq "alice@example.com"`, []string{"alice@example.com"}},
		{"Users", `userName eq 'alice@example.com'`, []string{"alice@example.com"}},
		{"Users", `userName eq alice@example.com`, []string{"alice@example.com"}},
		{"Users", `userName eq "ALICE@Example.com"`, []string{"alice@example.com"}},
		{"Users", `USERNAME EQ "bob@example.com"`, []string{"bob@example.com"}},
		{"Users", `userName co "example.com" and active eq true`, []string{"admin@example.com", "alice@example.com"}},
		{"Users", `(userName sw "carol") or (displayName eq "Bob")`, []string{"bob@example.com", "carol@other.org"}},
		{"Users", `userName ne "alice@example.com" and userName ne "bob@example.com" and active eq true`, []string{"admin@example.com", "carol@other.org"}},
		{"Users", `active eq false`, []string{"bob@example.com"}},
		{"Users", `active eq "true" and userName co other`, []string{"carol@other.org"}},
		{"Users", `externalId eq "ext-a"`, []string{"alice@example.com"}},
		{"Users", `id eq "` + alice + `"`, []string{"alice@example.com"}},
		{"Users", `displayName eq "alice"`, nil},
		{"Users", `userName eq "nobody@example.com"`, nil},
		{"Users", `displayName eq "Carol" or (userName eq "alice@example.com" and active eq true)`, []string{"alice@example.com", "carol@other.org"}},
		{"Users", `displayName eq "it's"`, nil},
		{"Users", `displayName eq 'say \'hi\''`, nil},
		{"ServicePrincipals", `displayName sw 'go-sdk-'`, []string{"go-sdk-robot"}},
		{"ServicePrincipals", `applicationId eq "AAAAAAAA-0000-4000-8000-000000000001"`, []string{"go-sdk-robot"}},
		{"Groups", `displayName sw "go-sdk-"`, []string{"go-sdk-team"}},
		{"Groups", `displayName eq data`, []string{"data"}},
		{"Groups", `displayName eq "Data"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.res+" "+tt.filter, func(t *testing.T) {
			r := c.do("GET", c.acct(tt.res)+"?filter="+q(tt.filter), nil).must(t, 200)
			var got []string
			for _, res := range r.list() {
				name, _ := res["userName"].(string)
				if name == "" {
					name, _ = res["displayName"].(string)
				}
				got = append(got, name)
			}
			if strings.Join(sorted(got), ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if int(r.body["totalResults"].(float64)) != len(tt.want) {
				t.Errorf("totalResults %v, want %d", r.body["totalResults"], len(tt.want))
			}
		})
	}

	bad := []struct {
		res, filter, scimType, detail string
	}{
		{"Users", `userName gt "a"`, "invalidFilter", "Given filter operator is not supported"},
		{"Users", `userName ew "a"`, "invalidFilter", "Given filter operator is not supported"},
		{"Users", `not (userName eq "a")`, "invalidFilter", "Given filter operator is not supported"},
		{"Users", `userName pr`, "invalidFilter", "Given filter operator is not supported"},
		{"Users", `userName eq "a`, "invalidFilter", "Unterminated"},
		{"Users", `(userName eq "a"`, "invalidFilter", "Missing )"},
		{"Users", `userName eq "a" and`, "invalidFilter", "end of filter"},
		{"Users", `applicationId eq "x"`, "invalidFilter", "Unsupported filter attribute"},
		{"Groups", `userName eq "x"`, "invalidFilter", "Unsupported filter attribute"},
		{"Users", `active co "t"`, "invalidFilter", "Given filter operator is not supported"},
		{"Users", `active eq maybe`, "invalidFilter", "boolean"},
		{"Users", nodes(101), "invalidFilter", "INVALID_FILTER"},
		{"Users", strings.Repeat("(", 300) + `userName eq "a"` + strings.Repeat(")", 300), "invalidFilter", "INVALID_FILTER"},
	}
	for _, tt := range bad {
		name := tt.filter
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run("bad "+name, func(t *testing.T) {
			c.do("GET", c.acct(tt.res)+"?filter="+q(tt.filter), nil).wantSCIMError(t, 400, tt.scimType, tt.detail)
		})
	}
	// 100 comparisons joined by or are 199 nodes: still accepted.
	r := c.do("GET", c.acct("Users")+"?filter="+q(nodes(100)), nil).must(t, 200)
	if len(r.list()) != 1 {
		t.Errorf("199-node filter matched %d users, want 1", len(r.list()))
	}
}

// nodes builds a filter of n userName comparisons joined by or (2n-1 nodes), of which the
// first matches alice.
func nodes(n int) string {
	parts := []string{`userName eq "alice@example.com"`}
	for i := 1; i < n; i++ {
		parts = append(parts, fmt.Sprintf(`userName eq "nobody%d@example.com"`, i))
	}
	return strings.Join(parts, " or ")
}

func TestCaseSensitiveUserNameFilter(t *testing.T) {
	c := newClient(t, fast(Options{CaseSensitiveUserNameFilter: true}))
	c.createUser("alice@example.com")
	for f, want := range map[string]int{`userName eq "ALICE@example.com"`: 0, `userName eq "alice@example.com"`: 1, `userName co "ALICE"`: 0} {
		if got := len(c.do("GET", c.acct("Users")+"?filter="+q(f), nil).must(t, 200).list()); got != want {
			t.Errorf("%s matched %d, want %d", f, got, want)
		}
	}
}

func TestAccountGroupListMembers(t *testing.T) {
	for _, withMembers := range []bool{false, true} {
		t.Run(fmt.Sprint("GroupListMembers=", withMembers), func(t *testing.T) {
			c := newClient(t, fast(Options{GroupListMembers: withMembers}))
			uid := c.createUser("u@x.com")
			gid := c.createGroup("g", uid)
			list := c.do("GET", c.acct("Groups")+"?filter="+q(`displayName eq "g"`)+"&attributes=id,displayName,members", nil).must(t, 200).list()
			_, has := list[0]["members"]
			if has != withMembers {
				t.Errorf("list has members: %v, want %v", has, withMembers)
			}
			if list[0]["meta"] != nil {
				t.Errorf("meta returned although not in attributes")
			}
			one := c.do("GET", c.acct("Groups/"+gid)+"?attributes=members", nil).must(t, 200)
			m := one.body["members"].([]any)[0].(map[string]any)
			if m["value"] != uid || m["display"] != "u@x.com" || m["$ref"] != "Users/"+uid {
				t.Errorf("member %v", m)
			}
		})
	}
}

func TestSortBy(t *testing.T) {
	c := newClient(t, fast(Options{}))
	c.createUser("b@x.com")
	c.createUser("c@x.com")
	c.createUser("a@x.com")
	r := c.do("GET", c.acct("Users")+"?sortBy=userName&sortOrder=descending&filter="+q(`userName ew "x"`), nil)
	r.wantSCIMError(t, 400, "invalidFilter", "not supported")
	list := c.do("GET", c.acct("Users")+"?sortBy=userName&sortOrder=descending&filter="+q(`userName co "x.com"`), nil).must(t, 200).list()
	var got []string
	for _, u := range list {
		got = append(got, u["userName"].(string))
	}
	if strings.Join(got, ",") != "c@x.com,b@x.com,a@x.com" {
		t.Errorf("sorted %v", got)
	}
}
