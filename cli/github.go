package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// GitHubCmd holds the JSON helpers of action/run.sh, the script of the GitHub Action. The
// action talks to the GitHub REST API with curl; these helpers do the JSON, so that the
// action needs nothing besides bash, curl and the scimsync it builds. The command is
// hidden from the help.
type GitHubCmd struct {
	PRNumber    PRNumberCmd    `cmd:"" name:"pr-number" help:"Print the pull-request number of a GitHub event payload, or nothing."`
	FindComment FindCommentCmd `cmd:"" name:"find-comment" help:"Read a page of issue comments (JSON) on stdin and print 'found ID', 'more' or 'none'."`
	CommentBody CommentBodyCmd `cmd:"" name:"comment-body" help:"Print the JSON request body of a comment: the marker, then the file's text."`
	Login       LoginCmd       `cmd:"" name:"login" help:"Read a GitHub user (JSON, GET /user) on stdin and print its login."`
	Outputs     OutputsCmd     `cmd:"" name:"outputs" help:"Print the step outputs (name=value lines) with the counts of a plan file and of apply's JSON result."`
}

// OutputsCmd prints the counts the action sets as step outputs.
type OutputsCmd struct {
	Plan  string `name:"plan" placeholder:"FILE" help:"A plan file: changes and removals."`
	Apply string `name:"apply" placeholder:"FILE" help:"What apply --format json printed: applied, failed, skipped, not-run and summary."`
}

// Run prints "changes=N" and "removals=N" for a plan, and "applied=N",
// "failed=N", "skipped=N", "not-run=N" and "summary=LINE" for an apply.
func (c *OutputsCmd) Run(rt *Runtime) error {
	var b strings.Builder
	if c.Plan != "" {
		p, err := readPlan(c.Plan)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "changes=%d\nremovals=%d\n", p.Summary.Total, p.Summary.Removals)
	}
	if c.Apply != "" {
		data, err := os.ReadFile(c.Apply)
		if err != nil {
			return fmt.Errorf("read apply result: %w", err)
		}
		var r applyReport
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("read apply result %s: %w", c.Apply, err)
		}
		fmt.Fprintf(&b, "applied=%d\nfailed=%d\nskipped=%d\nnot-run=%d\nsummary=%s\n",
			r.Applied, r.Failed, r.Skipped, r.NotRun, strings.ReplaceAll(r.Summary, "\n", " "))
	}
	_, err := io.WriteString(rt.IO.Out, b.String())
	return err
}

// PRNumberCmd prints the number of the pull request an event is about.
type PRNumberCmd struct {
	Event string `arg:"" name:"event" help:"The event payload: $GITHUB_EVENT_PATH."`
}

// Run prints the number from pull_request.number, or from issue.number when the issue is a
// pull request (issue_comment events), and nothing for other events.
func (c *PRNumberCmd) Run(rt *Runtime) error {
	data, err := os.ReadFile(c.Event)
	if err != nil {
		return fmt.Errorf("read event: %w", err)
	}
	var ev struct {
		PullRequest *struct {
			Number int `json:"number"`
		} `json:"pull_request"`
		Issue *struct {
			Number      int             `json:"number"`
			PullRequest json.RawMessage `json:"pull_request"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return fmt.Errorf("read event %s: %w", c.Event, err)
	}
	n := 0
	switch {
	case ev.PullRequest != nil:
		n = ev.PullRequest.Number
	case ev.Issue != nil && len(ev.Issue.PullRequest) > 0:
		n = ev.Issue.Number
	}
	if n > 0 {
		_, err = fmt.Fprintln(rt.IO.Out, n)
	}
	return err
}

// LoginCmd prints the login of the user the token belongs to.
type LoginCmd struct{}

// Run prints the login field of the JSON user on stdin; it fails when there is none.
func (c *LoginCmd) Run(rt *Runtime) error {
	var u struct {
		Login string `json:"login"`
	}
	if err := json.NewDecoder(io.LimitReader(rt.IO.In, 1<<20)).Decode(&u); err != nil {
		return fmt.Errorf("read user: %w", err)
	}
	if u.Login == "" {
		return errors.New("read user: no login")
	}
	_, err := fmt.Fprintln(rt.IO.Out, u.Login)
	return err
}

// FindCommentCmd looks for the comment that carries a marker in one page of comments.
type FindCommentCmd struct {
	Marker  string `name:"marker" required:"" help:"The hidden marker, such as <!-- scimsync:plan -->."`
	Author  string `name:"author" required:"" help:"The login of the token's user: only its comments are ours (github-actions[bot] for GITHUB_TOKEN)."`
	PerPage int    `name:"per-page" default:"100" help:"The page size asked for: a full page means there may be more."`
}

// Run prints "found ID" for the first comment written by the author whose body starts
// with the marker, else "more" when the page is full, else "none". A comment by anyone
// else that starts with the marker (a quote, a copy) is never taken for ours.
func (c *FindCommentCmd) Run(rt *Runtime) error {
	var page []struct {
		ID   int64  `json:"id"`
		Body string `json:"body"`
		User struct {
			Login string `json:"login"`
		} `json:"user"`
	}
	if err := json.NewDecoder(io.LimitReader(rt.IO.In, 64<<20)).Decode(&page); err != nil {
		return fmt.Errorf("read comments: %w", err)
	}
	result := "none"
	if len(page) >= c.PerPage {
		result = "more"
	}
	for _, cm := range page {
		if strings.EqualFold(cm.User.Login, c.Author) && strings.HasPrefix(strings.TrimSpace(cm.Body), c.Marker) {
			result = fmt.Sprintf("found %d", cm.ID)
			break
		}
	}
	_, err := fmt.Fprintln(rt.IO.Out, result)
	return err
}

// CommentBodyCmd prints the request body that creates or updates a comment.
type CommentBodyCmd struct {
	Marker string `name:"marker" required:"" help:"The hidden marker the comment starts with."`
	File   string `arg:"" name:"file" help:"The Markdown text of the comment."`
}

// Run prints {"body": "<marker>\n<text>"}.
func (c *CommentBodyCmd) Run(rt *Runtime) error {
	text, err := os.ReadFile(c.File)
	if err != nil {
		return fmt.Errorf("read comment: %w", err)
	}
	return json.NewEncoder(rt.IO.Out).Encode(map[string]string{"body": c.Marker + "\n" + string(text)})
}
