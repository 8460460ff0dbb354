package audit

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestCISource(t *testing.T) {
	tests := map[string]struct {
		env  map[string]string
		want Source
	}{
		"not in CI": {env: map[string]string{"GITHUB_SHA": "abc"}, want: Source{}},
		"github actions": {
			env: map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "octo/ids", "GITHUB_SHA": "0123abcd",
				"GITHUB_REF": "refs/heads/main", "GITHUB_ACTOR": "mona", "GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "1",
				"GITHUB_SERVER_URL": "https://ghe.example.com"},
			want: Source{CI: "github-actions", Repository: "octo/ids", Commit: "0123abcd", Ref: "refs/heads/main", Actor: "mona",
				RunURL: "https://ghe.example.com/octo/ids/actions/runs/42"},
		},
		"github actions, a re-run": {
			env:  map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "octo/ids", "GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "3"},
			want: Source{CI: "github-actions", Repository: "octo/ids", RunURL: "https://github.com/octo/ids/actions/runs/42/attempts/3"},
		},
		"gitlab": {
			env: map[string]string{"GITLAB_CI": "true", "CI_PROJECT_PATH": "grp/ids", "CI_COMMIT_SHA": "beef", "CI_COMMIT_REF_NAME": "main",
				"GITLAB_USER_LOGIN": "ann", "CI_JOB_URL": "https://gitlab.example.com/grp/ids/-/jobs/7"},
			want: Source{CI: "gitlab-ci", Repository: "grp/ids", Commit: "beef", Ref: "main", Actor: "ann", RunURL: "https://gitlab.example.com/grp/ids/-/jobs/7"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, CISource(env(tc.env))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLogWritesSource(t *testing.T) {
	var b bytes.Buffer
	l := NewLog(&b).WithSource(Source{Plan: "sha256:ab", Commit: "0123abcd", Actor: "mona", RunURL: "https://github.com/o/r/actions/runs/1"})
	l.Write(Record{Change: 0, Action: "create", Kind: "user", Key: "a@example.com", Status: "ok"})
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	want := `"source":{"plan":"sha256:ab","commit":"0123abcd","actor":"mona","runUrl":"https://github.com/o/r/actions/runs/1"}`
	if !strings.Contains(b.String(), want) {
		t.Errorf("record %s lacks %s", b.String(), want)
	}
	b.Reset()
	NewLog(&b).WithSource(Source{}).Write(Record{Status: "ok"})
	if strings.Contains(b.String(), "source") {
		t.Errorf("a zero source is written: %s", b.String())
	}
}
