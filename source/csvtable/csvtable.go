// Package csvtable reads the CSV files of scimsync's CSV sources (CSV manifests and
// identity-provider exports) into rows of cells that remember their line and column.
//
// It accepts UTF-8 with or without a byte-order mark, CRLF or LF line ends, quoted fields
// containing commas, quotes and newlines, empty lines, and a missing final newline. It
// reports, with the line they are on, syntax errors, invalid UTF-8, and rows whose number
// of fields differs from the header's; such rows are dropped, never padded or cut. Values
// are kept verbatim: a cell such as =1+3 is the text "=1+3".
//
// Package csvtable imports model, diag and source/read.
package csvtable

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source/read"
)

// Rules of the diagnostics this package reports.
const (
	RuleRead       = read.RuleRead     // the file cannot be read
	RuleSyntax     = "csv-syntax"      // malformed quoting
	RuleFieldCount = "csv-field-count" // a row has fewer or more fields than the header
	RuleEncoding   = "csv-encoding"    // the file is not UTF-8
	RuleHeader     = "csv-header"      // the header is missing, duplicated or unknown
)

// MaxProblems is the most diagnostics reported for one file; a file with more is reported
// as unreadable after that many, since listing every line of a broken file helps no one.
const MaxProblems = 100

// Cell is one field of a CSV record and the position where it starts.
type Cell struct {
	Value  string
	Line   int // 1-based line of the field's first character
	Column int // 1-based byte column of the field's first character
}

// Row is one record of a CSV file below the header, with as many cells as the header.
type Row struct {
	Cells []Cell
}

// Line returns the line the record starts on.
func (r Row) Line() int {
	if len(r.Cells) == 0 {
		return 0
	}
	return r.Cells[0].Line
}

// Table is a CSV file read by rows. The first record that is not blank is the header.
type Table struct {
	File   string
	Header []Cell
	Rows   []Row
}

// At returns the origin of a cell of the table.
func (t *Table) At(c Cell) model.Origin {
	return model.Origin{File: t.File, Line: c.Line, Column: c.Column}
}

// RowAt returns the origin of a row: its file and first line.
func (t *Table) RowAt(r Row) model.Origin {
	return model.Origin{File: t.File, Line: r.Line()}
}

// HeaderAt returns the origin of the header record.
func (t *Table) HeaderAt() model.Origin {
	if len(t.Header) == 0 {
		return model.Origin{File: t.File}
	}
	return model.Origin{File: t.File, Line: t.Header[0].Line}
}

// ReadFile reads and parses the CSV file at path, which must be a regular file of at most
// limit bytes (see read.File; 0 means read.DefaultMaxFileSize). The path is used as the
// file name in origins.
func ReadFile(path string, limit int64) (*Table, diag.List) {
	data, err := read.File(path, limit)
	if err != nil {
		var diags diag.List
		rule := RuleRead
		var fe *read.FileError
		if errors.As(err, &fe) {
			rule = fe.Rule
		}
		diags.Errorf(model.Origin{File: path}, rule, "read %s: %v", path, err)
		return nil, diags
	}
	return Parse(path, data)
}

// utf8BOM is the UTF-8 byte-order mark some spreadsheet programs write at the start.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Parse parses CSV data. The table it returns holds every well-formed row; the
// diagnostics describe every row it left out and why. A file without a header record
// yields an empty table and no diagnostic: callers decide whether that is an error.
func Parse(file string, data []byte) (*Table, diag.List) {
	t := &Table{File: file}
	var diags diag.List
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		diags.Errorf(model.Origin{File: file, Line: 1}, RuleEncoding,
			"the file is UTF-16; save it as CSV in UTF-8")
		return t, diags
	}
	data = bytes.TrimPrefix(data, utf8BOM)

	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1 // field counts are checked below, against the header
	r.ReuseRecord = false
	problems := 0
	report := func(at model.Origin, rule, format string, args ...any) bool {
		problems++
		if problems > MaxProblems {
			diags.Errorf(at, rule, "more than %d problems in this file; stopped reading it", MaxProblems)
			return false
		}
		diags.Errorf(at, rule, format, args...)
		return true
	}
	for {
		record, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				report(model.Origin{File: file}, RuleRead, "read %s: %v", file, err)
				break
			}
			// The reader has consumed the broken line; the next record starts after it.
			if !report(model.Origin{File: file, Line: pe.Line, Column: pe.Column}, RuleSyntax, "%s", syntaxMessage(pe)) {
				break
			}
			continue
		}
		cells := make([]Cell, len(record))
		blank := true
		for i, v := range record {
			line, col := r.FieldPos(i)
			cells[i] = Cell{Value: v, Line: line, Column: col}
			if strings.TrimSpace(v) != "" {
				blank = false
			}
		}
		if blank {
			// A line of spaces or of bare separators (",,,"), as spreadsheets leave at the
			// end of a sheet, holds nothing.
			continue
		}
		if bad, ok := invalidUTF8(cells); ok {
			if !report(model.Origin{File: file, Line: bad.Line, Column: bad.Column}, RuleEncoding,
				"invalid UTF-8 in this field; save the file as CSV in UTF-8") {
				break
			}
			continue
		}
		if t.Header == nil {
			if len(cells) == 1 && strings.Count(cells[0].Value, ";") > 0 {
				// Spreadsheets set to a locale whose decimal mark is a comma save "CSV"
				// with semicolons; every row would then be one column.
				diags.Errorf(model.Origin{File: file, Line: cells[0].Line, Column: cells[0].Column}, RuleHeader,
					"the header is one column, %s: the file seems to separate fields with semicolons; save it as CSV with commas",
					diag.Quote(cells[0].Value))
				return &Table{File: file}, diags
			}
			t.Header = cells
			continue
		}
		if len(t.Rows) >= read.MaxRecords {
			diags.Errorf(model.Origin{File: file, Line: cells[0].Line}, read.RuleTooMany,
				"more than %d rows, ten times what a Databricks account holds; stopped reading the file", read.MaxRecords)
			break
		}
		if len(cells) != len(t.Header) {
			if !report(model.Origin{File: file, Line: cells[0].Line}, RuleFieldCount,
				"row has %d fields, the header has %d", len(cells), len(t.Header)) {
				break
			}
			continue
		}
		t.Rows = append(t.Rows, Row{Cells: cells})
	}
	return t, diags
}

// invalidUTF8 returns the first cell that is not valid UTF-8.
func invalidUTF8(cells []Cell) (Cell, bool) {
	for _, c := range cells {
		if !utf8.ValidString(c.Value) {
			return c, true
		}
	}
	return Cell{}, false
}

// syntaxMessage turns a csv.ParseError into a sentence without its position, which the
// diagnostic carries.
func syntaxMessage(pe *csv.ParseError) string {
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return `a quote (") inside an unquoted field; quote the whole field and double the quote ("")`
	case errors.Is(pe.Err, csv.ErrQuote):
		if pe.StartLine != pe.Line {
			return fmt.Sprintf("a quoted field that starts on line %d is not closed properly", pe.StartLine)
		}
		return `a quoted field is not closed properly (a quote inside a quoted field must be doubled: "")`
	}
	return pe.Err.Error()
}

// Columns maps the header's names, normalised by norm, to their indexes. It reports names
// that occur twice after normalisation; empty names are left out of the map.
func (t *Table) Columns(norm func(string) string) (map[string]int, diag.List) {
	var diags diag.List
	cols := make(map[string]int, len(t.Header))
	for i, c := range t.Header {
		name := norm(c.Value)
		if name == "" {
			continue
		}
		if j, dup := cols[name]; dup {
			diags.Errorf(t.At(c), RuleHeader, "column %s appears twice (also column %d)", diag.Quote(strings.TrimSpace(c.Value)), j+1)
			continue
		}
		cols[name] = i
	}
	return cols, diags
}
