package emulator

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/model"
)

// benchServer returns an emulator holding n users, served in-process.
func benchServer(b *testing.B, n int) *Server {
	b.Helper()
	s := New(Options{RateLimit: -1, MaxPrincipals: -1})
	many := make([]model.User, n)
	for i := range many {
		many[i] = model.User{UserName: fmt.Sprintf("user%06d@example.com", i), Active: true}
	}
	if _, err := s.Seed(&model.State{Users: many}); err != nil {
		b.Fatal(err)
	}
	return s
}

func serve(b *testing.B, s *Server, method, target, body string) {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+DefaultToken)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code >= 300 {
		b.Fatalf("%s %s: %d %s", method, target, w.Code, w.Body)
	}
}

// BenchmarkListPage reads one page of 100 users from the far end of 100,000.
func BenchmarkListPage(b *testing.B) {
	s := benchServer(b, 100000)
	path := "/api/2.0/accounts/" + DefaultAccountID + "/scim/v2/Users?startIndex=99000&count=100"
	for b.Loop() {
		serve(b, s, http.MethodGet, path, "")
	}
}

// BenchmarkFilterUserName looks one user up by userName among 100,000.
func BenchmarkFilterUserName(b *testing.B) {
	s := benchServer(b, 100000)
	path := "/api/2.0/accounts/" + DefaultAccountID + "/scim/v2/Users?filter=" + q(`userName eq "user054321@example.com"`)
	for b.Loop() {
		serve(b, s, http.MethodGet, path, "")
	}
}

// BenchmarkCreateUser creates users in an account that already has 100,000.
func BenchmarkCreateUser(b *testing.B) {
	s := benchServer(b, 100000)
	path := "/api/2.0/accounts/" + DefaultAccountID + "/scim/v2/Users"
	i := 0
	for b.Loop() {
		i++
		serve(b, s, http.MethodPost, path, fmt.Sprintf(`{"userName":"new%d@example.com"}`, i))
	}
}
