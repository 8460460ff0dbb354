package render

import (
	"bytes"
	"strings"
	"testing"
)

// TestHeaderNamesTheAuthType checks that text and Markdown plans name the authentication
// the plan was made with, and say nothing of it when the plan does not record it.
func TestHeaderNamesTheAuthType(t *testing.T) {
	p := readPlan(t, scenarios(t)[0])
	var text, md bytes.Buffer
	if err := Text(&text, p, Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text.String(), "Credentials:") {
		t.Errorf("a plan without an auth type shows a Credentials line:\n%s", text.String())
	}
	p.AuthType = "github-oidc"
	text.Reset()
	if err := Text(&text, p, Options{}); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(text.String(), "\n"); len(lines) < 2 || lines[1] != "Credentials: auth type github-oidc" {
		t.Errorf("text header:\n%s", text.String())
	}
	if err := Markdown(&md, p, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "**Credentials:** auth type `github-oidc`  \n") {
		t.Errorf("Markdown header:\n%s", md.String())
	}
}
