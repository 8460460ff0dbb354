// Package ldif reads LDIF exports of a directory (RFC 2849), such as those written by
// slapcat, ldapsearch -L or Active Directory's ldifde, as a source of users and groups.
// Entries become identities through source/directory, with the source's mapping.
//
// The parser is this package's own rather than github.com/go-ldap/ldif, which was
// evaluated and found unfit for diagnostics: its entries carry no line numbers, its errors
// name the line where a record ends rather than the line at fault, it stops at the first
// problem, it rejects empty values (which exports of groupOfNames contain), and it follows
// "attr:< file:///..." URL values, reading whatever local file an export names. This
// parser remembers the first line of every entry, reports each problem at its own line and
// goes on, accepts empty values, and refuses URL values.
//
// It accepts UTF-8 with or without a byte-order mark, LF or CRLF line ends, comments,
// folded lines (continuations that start with one space, in comments too), "version: 1",
// base64 values ("attr:: ..."), attribute options, and content records as well as change
// records with "changetype: add". Other change records are reported and skipped.
//
// Package ldif imports model, diag, config, source/read and source/directory.
package ldif

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source/directory"
	"github.com/scimsync/scimsync/source/read"
)

// Rules of the diagnostics this package reports, besides those of source/directory.
const (
	RuleSyntax = "ldif-syntax" // the file is not well-formed LDIF
	RuleChange = "ldif-change" // a change record other than add
	RuleFiles  = "ldif-files"  // the source names no LDIF file
)

// Settings are the settings of an ldif source besides those of every source.
type Settings struct {
	Mapping directory.Mapping `yaml:"mapping"`
}

// MaxProblems is the most syntax problems reported for one file before it is given up on.
const MaxProblems = 100

// Read reads the LDIF files a source lists in Paths (a directory stands for the *.ldif
// files in it) and maps their entries to users and groups. Members are resolved across
// all the files.
func Read(ctx context.Context, src config.Source) (*read.Result, diag.List) {
	var set Settings
	diags := read.Settings(src, &set)
	mapper, md := directory.NewMapper(set.Mapping, src.Origin)
	diags = append(diags, md...)
	if diags.HasErrors() {
		return &read.Result{State: &model.State{}}, diags
	}
	files, fd := listFiles(src)
	diags = append(diags, fd...)
	var entries []directory.Entry
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			diags.Errorf(src.Origin, read.RuleRead, "read %s: %v", path, err)
			return &read.Result{State: &model.State{}}, diags
		}
		data, err := read.File(path, read.MaxFileSize(src))
		if err != nil {
			rule := read.RuleRead
			var fe *read.FileError
			if errors.As(err, &fe) {
				rule = fe.Rule
			}
			diags.Errorf(model.Origin{File: path}, rule, "read %s: %v", path, err)
			continue
		}
		es, pd := Parse(path, data)
		entries = append(entries, es...)
		diags = append(diags, pd...)
	}
	state, skipped, bd := mapper.Build(entries)
	diags = append(diags, bd...)
	return &read.Result{State: state, Skipped: skipped}, diags
}

// listFiles expands the source's paths: files as given, directories to their *.ldif files.
func listFiles(src config.Source) ([]string, diag.List) {
	var diags diag.List
	var files []string
	for _, p := range src.Paths {
		info, err := os.Stat(p)
		if err != nil {
			diags.Errorf(src.Origin, read.RuleRead, "read %s: %v", p, pathError(err))
			continue
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		matches, err := filepath.Glob(filepath.Join(p, "*.ldif"))
		if err != nil || len(matches) == 0 {
			diags.Errorf(src.Origin, RuleFiles, "directory %s holds no *.ldif file", p)
			continue
		}
		slices.Sort(matches)
		files = append(files, matches...)
	}
	if len(src.Paths) == 0 {
		diags.Errorf(src.Origin, RuleFiles, "the ldif source needs a path to an LDIF file")
	}
	return files, diags
}

func pathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// line is a logical line: physical lines joined by unfolding, with the number of the
// first one.
type line struct {
	text string
	num  int
}

// pendingLine is a logical line being unfolded.
type pendingLine struct {
	buf []byte
	num int
}

// parser holds the state of one Parse call.
type parser struct {
	file     string
	diags    diag.List
	problems int
	stopped  bool
}

func (p *parser) errorf(num int, rule, format string, args ...any) {
	if p.stopped {
		return
	}
	p.problems++
	if p.problems > MaxProblems {
		p.diags.Errorf(model.Origin{File: p.file, Line: num}, rule, "more than %d problems in this file; stopped reading it", MaxProblems)
		p.stopped = true
		return
	}
	p.diags.Errorf(model.Origin{File: p.file, Line: num}, rule, format, args...)
}

// Parse parses LDIF data into entries, each with its origin: the file, the line of its
// dn: line, and its DN. Problems are reported at the line they are on; a line in error is
// left out of its entry, and the entry is kept.
func Parse(file string, data []byte) ([]directory.Entry, diag.List) {
	p := &parser{file: file}
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	var entries []directory.Entry
	// The physical lines of the current record, unfolded as they come: a continuation
	// is appended to the bytes of its line, so that unfolding takes time linear in the
	// size of the line however many pieces it is folded into.
	var pending []pendingLine
	var record []line
	first := true // the next record is the first of the file
	flush := func() {
		if len(pending) > 0 && !p.stopped {
			record = record[:0]
			for _, l := range pending {
				record = append(record, line{text: string(l.buf), num: l.num})
			}
			if e, ok := p.record(record, first); ok {
				entries = append(entries, e)
				if len(entries) > read.MaxRecords {
					p.diags.Errorf(model.Origin{File: p.file, Line: e.Origin.Line}, read.RuleTooMany,
						"more than %d entries, ten times what a Databricks account holds; stopped reading the file", read.MaxRecords)
					p.stopped = true
				}
			}
			first = false
		}
		pending = pending[:0]
	}
	inComment := false
	num := 0
	for len(data) > 0 && !p.stopped {
		num++
		var raw []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			raw, data = data[:i], data[i+1:]
		} else {
			raw, data = data, nil
		}
		raw = bytes.TrimSuffix(raw, []byte{'\r'})
		switch {
		case len(raw) == 0:
			flush()
			inComment = false
		case raw[0] == ' ':
			switch {
			case inComment:
				// A folded comment stays a comment.
			case len(pending) == 0:
				p.errorf(num, RuleSyntax, "a continuation line (starting with a space) with no line before it to continue")
			default:
				last := &pending[len(pending)-1]
				last.buf = append(last.buf, raw[1:]...)
			}
		case raw[0] == '#':
			inComment = true
		default:
			inComment = false
			pending = append(pending, pendingLine{buf: append([]byte(nil), raw...), num: num})
		}
	}
	flush()
	return entries, p.diags
}

// record turns the logical lines of one record into an entry.
func (p *parser) record(lines []line, first bool) (directory.Entry, bool) {
	if first && attrIs(lines[0].text, "version") {
		_, v, ok := p.attrValue(lines[0])
		if ok && strings.TrimSpace(v) != "1" {
			p.errorf(lines[0].num, RuleSyntax, "LDIF version %s; only version 1 exists", diag.Quote(strings.TrimSpace(v)))
		}
		lines = lines[1:]
		if len(lines) == 0 {
			return directory.Entry{}, false
		}
	}
	if !attrIs(lines[0].text, "dn") {
		p.errorf(lines[0].num, RuleSyntax, "a record must start with a dn: line")
		return directory.Entry{}, false
	}
	_, dn, ok := p.attrValue(lines[0])
	if !ok {
		return directory.Entry{}, false
	}
	if !utf8.ValidString(dn) {
		p.errorf(lines[0].num, RuleSyntax, "the DN is not valid UTF-8")
		return directory.Entry{}, false
	}
	e := directory.Entry{
		DN:     strings.TrimSpace(dn),
		Attrs:  map[string][]string{},
		Origin: model.Origin{File: p.file, Line: lines[0].num, Entry: strings.TrimSpace(dn)},
	}
	rest := lines[1:]
	if len(rest) > 0 && attrIs(rest[0].text, "control") {
		p.errorf(rest[0].num, RuleChange, "LDIF controls are not supported")
		return directory.Entry{}, false
	}
	if len(rest) > 0 && attrIs(rest[0].text, "changetype") {
		_, ct, ok := p.attrValue(rest[0])
		if !ok {
			return directory.Entry{}, false
		}
		if ct = strings.TrimSpace(ct); !strings.EqualFold(ct, "add") {
			p.errorf(rest[0].num, RuleChange, "changetype %s is not supported: export the entries as content records or with changetype: add", diag.Quote(ct))
			return directory.Entry{}, false
		}
		rest = rest[1:]
	}
	for _, l := range rest {
		attr, v, ok := p.attrValue(l)
		if !ok {
			continue
		}
		switch strings.ToLower(attr) {
		case "dn":
			p.errorf(l.num, RuleSyntax, "a second dn: line in one record (is a blank line missing before it?)")
			continue
		case "changetype":
			p.errorf(l.num, RuleSyntax, "changetype: must directly follow the dn: line")
			continue
		}
		e.Add(attr, v)
	}
	return e, true
}

// attrIs reports whether a logical line is an attribute-value line of the named attribute.
func attrIs(text, attr string) bool {
	i := strings.IndexByte(text, ':')
	return i >= 0 && strings.EqualFold(text[:i], attr)
}

// attrValue splits a logical line into attribute description and value, decoding base64
// values. Text values must be UTF-8; base64 values may be binary.
func (p *parser) attrValue(l line) (string, string, bool) {
	i := strings.IndexByte(l.text, ':')
	if i < 0 {
		p.errorf(l.num, RuleSyntax, "no colon: expected \"attribute: value\"")
		return "", "", false
	}
	attr, rest := l.text[:i], l.text[i+1:]
	if err := checkAttr(attr); err != nil {
		p.errorf(l.num, RuleSyntax, "%v", err)
		return "", "", false
	}
	switch {
	case strings.HasPrefix(rest, ":"):
		enc := strings.Trim(rest[1:], " ")
		v, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			p.errorf(l.num, RuleSyntax, "the base64 value of %s does not decode: %v", attr, err)
			return "", "", false
		}
		return attr, string(v), true
	case strings.HasPrefix(rest, "<"):
		p.errorf(l.num, RuleSyntax, "the value of %s is a URL; URL values are not supported, include the value itself", attr)
		return "", "", false
	}
	v := strings.TrimLeft(rest, " ")
	if !utf8.ValidString(v) {
		p.errorf(l.num, RuleSyntax, "the value of %s is not valid UTF-8", attr)
		return "", "", false
	}
	return attr, v, true
}

// checkAttr checks an attribute description: a name (letter, then letters, digits and
// hyphens) or a numeric OID, followed by options (";" then letters, digits and hyphens).
func checkAttr(desc string) error {
	if desc == "" {
		return fmt.Errorf("a line starts with a colon: the attribute name is missing")
	}
	parts := strings.Split(desc, ";")
	name := parts[0]
	if name == "" {
		return fmt.Errorf("%s has options but no attribute name", diag.Quote(desc))
	}
	valid := func(s string, allowDot bool) bool {
		if s == "" {
			return false
		}
		for _, r := range s {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			case r == '.' && allowDot:
			default:
				return false
			}
		}
		return true
	}
	isOID := name[0] >= '0' && name[0] <= '9'
	if !valid(name, isOID) || (!isOID && !(name[0] >= 'a' && name[0] <= 'z' || name[0] >= 'A' && name[0] <= 'Z')) {
		return fmt.Errorf("%s is not an attribute name", diag.Quote(desc))
	}
	for _, opt := range parts[1:] {
		if !valid(opt, false) {
			return fmt.Errorf("%s has an invalid option %s", diag.Quote(desc), diag.Quote(opt))
		}
	}
	return nil
}
