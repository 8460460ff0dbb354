package render

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// gfmDoc is the structure of a Markdown document as GitHub's parser sees it, read with
// goldmark and its GFM extension (a CommonMark and GFM parser, as cmark-gfm is).
type gfmDoc struct {
	headings  []string
	items     []string // source text of every list item
	tables    int
	tableRows int
	// rawText holds text outside code that still looks like Markdown or HTML: what a
	// reader would see as raw backticks, asterisks or tags.
	rawText []string
	// swallowed holds HTML blocks that carry Markdown: a list item or heading that GFM
	// took into the block, so it shows unrendered.
	swallowed []string
	details   int
}

func parseGFM(t *testing.T, md []byte) *gfmDoc {
	t.Helper()
	p := goldmark.New(goldmark.WithExtensions(extension.GFM))
	root := p.Parser().Parse(text.NewReader(md))
	d := &gfmDoc{}
	err := ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			d.headings = append(d.headings, string(n.Text(md)))
		case *ast.ListItem:
			d.items = append(d.items, string(n.Text(md)))
		case *east.Table:
			d.tables++
		case *east.TableRow:
			d.tableRows++
		case *ast.CodeSpan, *ast.FencedCodeBlock, *ast.CodeBlock:
			return ast.WalkSkipChildren, nil
		case *ast.Text:
			s := string(n.Segment.Value(md))
			if strings.Contains(s, "`") || strings.Contains(s, "**") || strings.Contains(s, "<details") {
				d.rawText = append(d.rawText, s)
			}
		case *ast.HTMLBlock:
			var b strings.Builder
			for i := 0; i < n.Lines().Len(); i++ {
				seg := n.Lines().At(i)
				b.Write(seg.Value(md))
			}
			html := b.String()
			if strings.Contains(html, "<details>") {
				d.details++
			}
			for _, l := range strings.Split(html, "\n") {
				if strings.HasPrefix(l, "- ") || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "| ") {
					d.swallowed = append(d.swallowed, l)
				}
			}
		}
		return ast.WalkContinue, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestPlanMarkdownIsGFM renders every plan scenario's Markdown golden as GitHub does and
// checks its structure: the title, the counts table with one row per kind of change, the
// review section with one list item per risk, one collapsible block per kind of change,
// and no Markdown or HTML left raw in the text.
func TestPlanMarkdownIsGFM(t *testing.T) {
	for _, dir := range scenarios(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			md, err := os.ReadFile(filepath.Join(dir, "plan.golden.md"))
			if err != nil {
				t.Fatal(err)
			}
			p := readPlan(t, dir)
			v := newView(p)
			d := parseGFM(t, md)
			if len(d.headings) == 0 || !strings.HasPrefix(d.headings[0], "scimsync plan: ") {
				t.Errorf("headings %q: the first is not the plan's title", d.headings)
			}
			if len(p.Changes) > 0 && (d.tables != 1 || d.tableRows != len(v.counts)) {
				t.Errorf("%d tables with %d rows, want 1 with %d", d.tables, d.tableRows, len(v.counts))
			}
			if n := len(p.Risks); n > 0 {
				if !contains(d.headings, "Review first: "+v.riskCounts()) {
					t.Errorf("no review section in headings %q", d.headings)
				}
				risky := 0
				for _, it := range d.items {
					if countPrefix([]string{it}, "`+` ", "`-` ", "`=` ", "`x` ") == 1 {
						risky++
					}
				}
				if blocked := len(p.Blocked); blocked > 0 {
					n -= blocked - 1 // one line points at the Blocked section
				}
				if risky < n {
					t.Errorf("%d risk items, want %d: %q", risky, n, d.items)
				}
			}
			if len(p.Changes) > 0 && d.details != len(v.counts) {
				t.Errorf("%d collapsible blocks, want one per kind of change (%d)", d.details, len(v.counts))
			}
			if len(d.rawText) > 0 || len(d.swallowed) > 0 {
				t.Errorf("raw Markdown in the text %q, or swallowed by HTML blocks %q", d.rawText, d.swallowed)
			}
		})
	}
}

// TestDriftMarkdownIsGFM renders every drift Markdown golden as GitHub does: each drifted
// object is a list item or a collapsible block, none swallowed by the block before it, and
// the legend is there when there are diffs.
func TestDriftMarkdownIsGFM(t *testing.T) {
	for _, dir := range driftScenarios(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			md, err := os.ReadFile(filepath.Join(dir, "drift.golden.md"))
			if err != nil {
				t.Fatal(err)
			}
			r := readDrift(t, filepath.Join(dir, "drift.golden.json"))
			d := parseGFM(t, md)
			if len(d.headings) == 0 || !strings.HasPrefix(d.headings[0], "scimsync drift: ") {
				t.Errorf("headings %q", d.headings)
			}
			if d.tables != 1 {
				t.Errorf("%d tables, want the counts table", d.tables)
			}
			drifted, withDiff := 0, 0
			for _, o := range r.Objects {
				if o.Status.IsDrift() {
					drifted++
					if len(o.Differences) > 0 {
						withDiff++
					}
				}
			}
			if got := d.details + countPrefix(d.items, "`+` ", "`?` ", "`~` ", "`-` "); got < drifted {
				t.Errorf("%d objects shown (%d blocks, items %q), want %d", got, d.details, d.items, drifted)
			}
			if withDiff > 0 && !bytes.Contains(md, []byte("`-` is the live value and `+` the declared value")) {
				t.Error("no legend for the diffs")
			}
			if len(d.rawText) > 0 || len(d.swallowed) > 0 {
				t.Errorf("raw Markdown in the text %q, or swallowed by HTML blocks %q", d.rawText, d.swallowed)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func countPrefix(items []string, prefixes ...string) int {
	n := 0
	for _, it := range items {
		for _, p := range prefixes {
			if strings.HasPrefix(it, p) {
				n++
				break
			}
		}
	}
	return n
}

// TestGFMCatchesSwallowedItems checks the checker: a list item right after </details>,
// without a blank line, is taken into the HTML block and reported, as GitHub shows it raw.
func TestGFMCatchesSwallowedItems(t *testing.T) {
	bad := "<details><summary>x</summary>\n\n```diff\n+ a\n```\n\n</details>\n- `+` user `nina@example.com`\n"
	if d := parseGFM(t, []byte(bad)); len(d.swallowed) == 0 {
		t.Errorf("a swallowed list item is not reported: %+v", d)
	}
	good := strings.Replace(bad, "</details>\n", "</details>\n\n", 1)
	if d := parseGFM(t, []byte(good)); len(d.swallowed) != 0 || len(d.items) != 1 {
		t.Errorf("a list item after a blank line: %+v", d)
	}
	raw := "Some **bold text that never closes and a `stray backtick\n"
	if d := parseGFM(t, []byte(raw)); len(d.rawText) == 0 {
		t.Errorf("raw Markdown in text is not reported: %+v", d)
	}
}
