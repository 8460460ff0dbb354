package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/emulator"
)

// TestLookAlikeServicePrincipal follows issue 18's first report: after the example
// organisation is applied, someone creates a second service principal named ml-serving in
// the console. The next plan and apply, with removal set to deactivate and then delete,
// neither deactivate nor delete either copy, keep the one scimsync manages in its groups
// and workspace, and name the copy in a blocked entry of the plan.
func TestLookAlikeServicePrincipal(t *testing.T) {
	a := newAccount(t, emulator.Options{}, nil)
	a.applyAll(t)
	o := a.srv.Options()
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal"],"displayName":"ml-serving","active":true}`
	req, err := http.NewRequest(http.MethodPost, a.srv.URL+"/api/2.0/accounts/"+o.AccountID+"/scim/v2/ServicePrincipals", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+o.Token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("console create: %s", resp.Status)
	}
	before := a.srv.State()
	r := a.run(t, "plan", "--detailed-exitcode")
	out := r.stdout + r.stderr
	if r.code != 2 || !strings.Contains(out, "Plan: 1 blocked.") || !strings.Contains(out, "another live service principal is named so besides the one scimsync manages") ||
		!strings.Contains(out, "no externalId") || !strings.Contains(out, "No changes can be made.") {
		t.Fatalf("plan: want exit 2 (not settled), no change and a blocked entry naming the copy; got %s\n%s", r, out)
	}
	// drift agrees with plan: the copy is out of scope, not drift.
	if d := a.run(t, "drift"); d.code != 0 || !strings.Contains(d.stdout, "blocked:") || !strings.Contains(d.stdout, "a look-alike of a declared service principal") {
		t.Errorf("drift: want exit 0, the blocked warning and the copy out of scope; got %s", d)
	}
	if r := a.run(t, "apply", "--auto-approve"); r.code != 0 {
		t.Fatalf("apply: %s", r)
	}
	after := a.srv.State()
	var copies int
	for _, p := range after.ServicePrincipals {
		if p.DisplayName == "ml-serving" {
			copies++
			if !p.Active {
				t.Errorf("service principal %s (%s) was deactivated", p.ID, p.ApplicationID)
			}
		}
	}
	if copies != 2 {
		t.Errorf("%d service principals named ml-serving, want both", copies)
	}
	assertHolds(t, a.desired(t), after)
	if len(after.ServicePrincipals) != len(before.ServicePrincipals) {
		t.Errorf("%d service principals before the apply, %d after", len(before.ServicePrincipals), len(after.ServicePrincipals))
	}
}
