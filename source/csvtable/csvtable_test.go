package csvtable

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/source/read"
)

// rowsOf renders the rows of a table as "line: v1|v2|..." for comparison.
func rowsOf(t *Table) []string {
	var out []string
	for _, r := range t.Rows {
		vals := make([]string, len(r.Cells))
		for i, c := range r.Cells {
			vals[i] = c.Value
		}
		out = append(out, strconv.Itoa(r.Line())+": "+strings.Join(vals, "|"))
	}
	return out
}

func strs(diags diag.List) []string {
	var out []string
	for _, d := range diags {
		out = append(out, d.String())
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		header string // the header values joined by |
		rows   []string
		diags  []string
	}{
		{
			name:   "LF with final newline",
			in:     "a,b\n1,2\n3,4\n",
			header: "a|b",
			rows:   []string{"2: 1|2", "3: 3|4"},
		},
		{
			name:   "CRLF without final newline",
			in:     "a,b\r\n1,2\r\n3,4",
			header: "a|b",
			rows:   []string{"2: 1|2", "3: 3|4"},
		},
		{
			name:   "byte-order mark",
			in:     "\xEF\xBB\xBFuserName,active\nx@y.z,true\n",
			header: "userName|active",
			rows:   []string{"2: x@y.z|true"},
		},
		{
			name:   "quoted fields with commas, quotes and newlines keep later line numbers right",
			in:     "a,b\n\"x, y\",\"he said \"\"hi\"\"\"\n\"multi\nline\r\nvalue\",z\nlast,row\n",
			header: "a|b",
			rows:   []string{"2: x, y|he said \"hi\"", "3: multi\nline\nvalue|z", "6: last|row"},
		},
		{
			name:   "formula-like values stay text",
			in:     "a,b,c,d\n=1+3,+A1,-2,@SUM(A1)\n",
			header: "a|b|c|d",
			rows:   []string{"2: =1+3|+A1|-2|@SUM(A1)"},
		},
		{
			name:   "empty and blank lines are skipped, trailing ones too",
			in:     "a,b\n\n1,2\n,\n  \n3,4\n\n\n",
			header: "a|b",
			rows:   []string{"3: 1|2", "6: 3|4"},
		},
		{
			name:   "ragged rows are reported, not padded or cut",
			in:     "a,b,c\n1,2\n1,2,3\n1,2,3,4\n",
			header: "a|b|c",
			rows:   []string{"3: 1|2|3"},
			diags: []string{
				"f.csv:2: error: row has 2 fields, the header has 3 [csv-field-count]",
				"f.csv:4: error: row has 4 fields, the header has 3 [csv-field-count]",
			},
		},
		{
			name:   "ragged row after a multi-line field is reported at its first line",
			in:     "a,b\n\"x\ny\",1,extra\n5,6\n",
			header: "a|b",
			rows:   []string{"4: 5|6"},
			diags:  []string{"f.csv:2: error: row has 3 fields, the header has 2 [csv-field-count]"},
		},
		{
			name:   "invalid UTF-8 is reported with its line and column",
			in:     "a,b\n1,2\nok,caf\xe9\n3,4\n",
			header: "a|b",
			rows:   []string{"2: 1|2", "4: 3|4"},
			diags:  []string{"f.csv:3:4: error: invalid UTF-8 in this field; save the file as CSV in UTF-8 [csv-encoding]"},
		},
		{
			name:  "UTF-16",
			in:    "\xFF\xFEa\x00,\x00b\x00",
			diags: []string{"f.csv:1: error: the file is UTF-16; save it as CSV in UTF-8 [csv-encoding]"},
		},
		{
			name:   "a bare quote is reported and the next line read",
			in:     "a,b\nx\"y,1\n2,3\n",
			header: "a|b",
			rows:   []string{"3: 2|3"},
			diags: []string{
				`f.csv:2:2: error: a quote (") inside an unquoted field; quote the whole field and double the quote ("") [csv-syntax]`,
			},
		},
		{
			name:   "an unclosed quoted field is reported with the line it starts on",
			in:     "a,b\n1,2\n3,\"open\nstill open\n",
			header: "a|b",
			rows:   []string{"2: 1|2"},
			diags:  []string{"f.csv:4:12: error: a quoted field that starts on line 3 is not closed properly [csv-syntax]"},
		},
		{
			name: "no header",
			in:   "\n\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table, diags := Parse("f.csv", []byte(tt.in))
			var header []string
			for _, c := range table.Header {
				header = append(header, c.Value)
			}
			if diff := cmp.Diff(tt.header, strings.Join(header, "|")); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.rows, rowsOf(table)); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.diags, strs(diags)); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseStopsAfterMaxProblems(t *testing.T) {
	in := "a,b\n" + strings.Repeat("1\n", MaxProblems+50)
	_, diags := Parse("f.csv", []byte(in))
	if len(diags) != MaxProblems+1 {
		t.Fatalf("got %d diagnostics, want %d", len(diags), MaxProblems+1)
	}
	if last := diags[len(diags)-1].Message; !strings.Contains(last, "stopped reading") {
		t.Errorf("last diagnostic %q, want the stop notice", last)
	}
}

func TestColumns(t *testing.T) {
	table, _ := Parse("f.csv", []byte("Name, name ,,Other\n1,2,3,4\n"))
	cols, diags := table.Columns(func(s string) string { return strings.ToLower(strings.TrimSpace(s)) })
	if diff := cmp.Diff(map[string]int{"name": 0, "other": 3}, cols); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	want := []string{`f.csv:1:6: error: column "name" appears twice (also column 1) [csv-header]`}
	if diff := cmp.Diff(want, strs(diags)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

func TestReadFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.csv")
	table, diags := ReadFile(path, 0)
	if table != nil || len(diags) != 1 || diags[0].Rule != RuleRead {
		t.Fatalf("got %v, %v; want a read error", table, diags)
	}
	if !strings.Contains(diags[0].Message, "no such file") {
		t.Errorf("message %q does not say the file does not exist", diags[0].Message)
	}
}

// FuzzParse checks that any input parses without panicking into rows as wide as the
// header, at lines that exist in the input and never go backwards.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../*/testdata/*/*.csv")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("a,b\n\"x\ny\",1\n"))
	f.Add([]byte("\xEF\xBB\xBFa;b\r\n1,2"))
	f.Fuzz(func(t *testing.T, data []byte) {
		table, _ := Parse("f.csv", data)
		lines := strings.Count(string(data), "\n") + 1
		prev := 0
		for _, r := range table.Rows {
			if len(r.Cells) != len(table.Header) {
				t.Fatalf("row at line %d has %d cells, header %d", r.Line(), len(r.Cells), len(table.Header))
			}
			if r.Line() < 1 || r.Line() > lines || r.Line() < prev {
				t.Fatalf("row line %d out of order or range (previous %d, %d lines)", r.Line(), prev, lines)
			}
			prev = r.Line()
		}
	})
}

// TestParseStopsPastTheLimits: a file with more rows than ten accounts hold is not read
// to the end.
func TestParseStopsPastTheLimits(t *testing.T) {
	data := "userName\n" + strings.Repeat("a@x.io\n", read.MaxRecords+5)
	table, diags := Parse("big.csv", []byte(data))
	if len(table.Rows) != read.MaxRecords || len(diags) != 1 || diags[0].Rule != read.RuleTooMany {
		t.Fatalf("got %d rows and %v, want reading stopped with one too-many error", len(table.Rows), diags)
	}
}

// TestHostileValuesQuoted: a header cell read from a hostile file is cut short and its
// control characters escaped in messages.
func TestHostileValuesQuoted(t *testing.T) {
	long := "\x1b[2J" + strings.Repeat("SECRET=", 200)
	_, diags := Parse("x.csv", []byte(long+";x\n"))
	if len(diags) != 1 {
		t.Fatalf("got %v", diags)
	}
	msg := diags[0].Message
	if strings.Contains(msg, "\x1b") || len(msg) > 300 || !strings.Contains(msg, `\x1b[2J`) || !strings.Contains(msg, "characters in all") {
		t.Errorf("message not cut and escaped: %q", msg)
	}
}

func TestSemicolonHint(t *testing.T) {
	table, diags := Parse("x.csv", []byte("userName;displayName\nada@x.io;Ada\n"))
	if len(table.Rows) != 0 || len(diags) != 1 || !strings.Contains(diags[0].Message, "separate fields with semicolons") {
		t.Fatalf("got %d rows and %v, want one hint about semicolons", len(table.Rows), diags)
	}
}
