package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/policy"
)

// minHostileCases is the least number of cases the corpus must hold, so that a corpus
// directory that went missing does not pass as an empty one.
const minHostileCases = 100

// TestHostileInput runs every case of the hostile-input corpus, testdata/hostile/*.txtar,
// with the real binary against an emulator of its own. A case is a txtar archive: its files
// are written to a scratch directory, and its comment holds one directive a line:
//
//	setup ARGS...           run scimsync ARGS first; it must exit 0 or 2
//	replace FILE OLD NEW    replace the first OLD in FILE with NEW (after the setups)
//	truncate FILE N         cut FILE to its first N bytes (after the setups)
//	append FILE TEXT        append TEXT to FILE (after the setups)
//	rechecksum FILE         recompute the checksum of plan file FILE (after the edits
//	                        before it), as anyone who can write the file can
//	retarget FILE FROM TO   point the changes of plan file FILE whose key is FROM at the
//	                        live object whose fingerprint has key TO (its id and key),
//	                        drop the plan's protected identities and recompute the
//	                        checksum: a forgery that keeps every fingerprint genuine
//	generate FILE KIND N    write FILE from a generator (see generators), for input too
//	                        large or too odd to commit
//	env KEY=VALUE           set a variable for the runs
//	run ARGS...             run scimsync ARGS; there may be several
//	exit N                  the exit code of every run (default 1)
//	want REGEXP             a regular expression the output (stdout and stderr) of every
//	                        run must match; there may be several
//
// Arguments are separated by spaces; single quotes group an argument that holds spaces.
// Lines starting with # are comments. Every run must end with the exit code, match every
// want, and make no write to the emulator: no POST, PUT, PATCH or DELETE reaches it
// between the first run and the last. Adding a case is adding a file.
func TestHostileInput(t *testing.T) {
	files, err := filepath.Glob("testdata/hostile/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < minHostileCases {
		t.Fatalf("the hostile-input corpus holds %d cases, want at least %d", len(files), minHostileCases)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c, err := parseHostileCase(ar.Comment)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			runHostileCase(t, c, ar)
		})
	}
}

// hostileCase is the parsed comment of a corpus case.
type hostileCase struct {
	setups [][]string
	edits  [][]string // replace, truncate and append directives, in order
	gens   [][]string
	env    []string
	runs   [][]string
	exit   int
	wants  []*regexp.Regexp
}

func parseHostileCase(comment []byte) (*hostileCase, error) {
	c := &hostileCase{exit: 1}
	for n, line := range strings.Split(string(comment), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		verb, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		args, err := splitArgs(rest)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", n+1, err)
		}
		switch verb {
		case "setup":
			c.setups = append(c.setups, args)
		case "replace", "truncate", "append", "rechecksum", "retarget":
			c.edits = append(c.edits, append([]string{verb}, args...))
		case "generate":
			if len(args) != 3 {
				return nil, fmt.Errorf("line %d: generate FILE KIND N", n+1)
			}
			c.gens = append(c.gens, args)
		case "env":
			c.env = append(c.env, args...)
		case "run":
			c.runs = append(c.runs, args)
		case "exit":
			if c.exit, err = strconv.Atoi(rest); err != nil {
				return nil, fmt.Errorf("line %d: exit %q: %v", n+1, rest, err)
			}
		case "want":
			re, err := regexp.Compile(rest)
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", n+1, err)
			}
			c.wants = append(c.wants, re)
		default:
			return nil, fmt.Errorf("line %d: unknown directive %q", n+1, verb)
		}
	}
	if len(c.runs) == 0 || len(c.wants) == 0 {
		return nil, fmt.Errorf("a case needs at least one run and one want")
	}
	return c, nil
}

// splitArgs splits at spaces; single quotes group.
func splitArgs(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	in, quoted := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			in, quoted = !in, true
		case unicode.IsSpace(r) && !in:
			if cur.Len() > 0 || quoted {
				args = append(args, cur.String())
			}
			cur.Reset()
			quoted = false
		default:
			cur.WriteRune(r)
		}
	}
	if in {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if cur.Len() > 0 || quoted {
		args = append(args, cur.String())
	}
	return args, nil
}

func runHostileCase(t *testing.T, c *hostileCase, ar *txtar.Archive) {
	a := startAccount(t, emulator.Options{})
	files := map[string]string{}
	for _, f := range ar.Files {
		files[f.Name] = string(f.Data)
	}
	a.write(t, files)
	for _, g := range c.gens {
		n, err := strconv.Atoi(g[2])
		if err != nil {
			t.Fatalf("generate %v: %v", g, err)
		}
		gen, ok := generators[g[1]]
		if !ok {
			t.Fatalf("generate %v: no generator %q", g, g[1])
		}
		if err := os.WriteFile(filepath.Join(a.dir, g[0]), gen(n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range c.setups {
		if r := a.run(t, args...); r.code != 0 && r.code != 2 {
			t.Fatalf("setup scimsync %s: %s", strings.Join(args, " "), r)
		}
	}
	for _, e := range c.edits {
		edit(t, a.dir, e)
	}
	a.quiesce(t)
	before := a.obs.writes.Load()
	runner := *a
	runner.env = append(slices.Clone(a.env), c.env...)
	for _, args := range c.runs {
		r := runner.run(t, args...)
		cmd := "scimsync " + strings.Join(args, " ")
		if r.code != c.exit {
			t.Errorf("%s: want exit %d, got %s", cmd, c.exit, r)
			continue
		}
		out := r.stdout + r.stderr
		if len(out) > 2000 {
			t.Logf("%s:\n%s...", cmd, out[:2000])
		} else {
			t.Logf("%s:\n%s", cmd, out)
		}
		for _, re := range c.wants {
			if !re.MatchString(out) {
				t.Errorf("%s: output does not match %q:\n%s", cmd, re, out)
			}
		}
	}
	a.quiesce(t)
	if n := a.obs.writes.Load() - before; n != 0 {
		t.Errorf("hostile input led to %d writes to the account", n)
	}
}

// edit applies a replace, truncate or append directive to a file of the scratch directory.
func edit(t *testing.T, dir string, e []string) {
	t.Helper()
	if len(e) < 3 && !(e[0] == "rechecksum" && len(e) == 2) {
		t.Fatalf("%s: too few arguments", strings.Join(e, " "))
	}
	path := filepath.Join(dir, e[1])
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	switch e[0] {
	case "replace":
		if len(e) != 4 || !strings.Contains(string(data), e[2]) {
			t.Fatalf("replace: %q not found in %s", e[2:], e[1])
		}
		data = []byte(strings.Replace(string(data), e[2], e[3], 1))
	case "truncate":
		n, err := strconv.Atoi(e[2])
		if err != nil || n > len(data) {
			t.Fatalf("truncate %s to %s bytes of %d", e[1], e[2], len(data))
		}
		data = data[:n]
	case "append":
		data = append(data, e[2]...)
	case "rechecksum", "retarget":
		var p plan.Plan
		if err := json.Unmarshal(data, &p); err != nil {
			t.Fatalf("%s %s: %v", e[0], e[1], err)
		}
		if e[0] == "retarget" {
			retarget(t, &p, e[2:])
		}
		var buf bytes.Buffer
		if err := plan.Encode(&buf, &p); err != nil {
			t.Fatalf("rechecksum %s: %v", e[1], err)
		}
		data = buf.Bytes()
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// retarget points the changes whose key is args[0] at the object whose fingerprint has
// key args[1], and drops the plan's own protections.
func retarget(t *testing.T, p *plan.Plan, args []string) {
	t.Helper()
	if len(args) != 2 {
		t.Fatalf("retarget FILE FROM TO")
	}
	var to *plan.Fingerprint
	for i := range p.Fingerprints {
		if p.Fingerprints[i].Key == args[1] {
			to = &p.Fingerprints[i]
		}
	}
	if to == nil {
		t.Fatalf("retarget: no fingerprint with key %s", args[1])
	}
	n := 0
	for i := range p.Changes {
		if c := &p.Changes[i]; c.Key == args[0] {
			c.Key, c.ID = to.Key, to.ID
			n++
		}
	}
	if n == 0 {
		t.Fatalf("retarget: no change with key %s", args[0])
	}
	p.Protected = nil
	p.Policy.Protected = policy.Protected{}
}

// generators write input that is too large, or too odd, to commit: each takes a size.
var generators = map[string]func(n int) []byte{
	// users: a manifest of n users.
	"users": func(n int) []byte {
		var b strings.Builder
		b.WriteString("users:\n")
		for i := range n {
			fmt.Fprintf(&b, "  - userName: user%06d@example.com\n", i)
		}
		return []byte(b.String())
	},
	// csv-users: a CSV manifest users file of n rows.
	"csv-users": func(n int) []byte {
		var b strings.Builder
		b.WriteString("userName,displayName\n")
		for i := range n {
			fmt.Fprintf(&b, "user%06d@example.com,User %d\n", i, i)
		}
		return []byte(b.String())
	},
	// long-group-name: a manifest with one user and a group whose name is n bytes long.
	"long-group-name": func(n int) []byte {
		return []byte("users:\n  - userName: ada@example.com\n    groups: [g]\ngroups:\n  - displayName: g\n  - displayName: " + strings.Repeat("x", n) + "\n")
	},
	// nest: a YAML value nested n lists deep, as the groups of a user.
	"nest": func(n int) []byte {
		return []byte("users:\n  - userName: ada@example.com\n    groups: " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n")
	},
	// invalid-utf8-yaml: a manifest whose line 3 holds n bytes that are not UTF-8.
	"invalid-utf8-yaml": func(n int) []byte {
		return []byte("users:\n  - userName: ada@example.com\n    displayName: Ada " + strings.Repeat("\xff", n) + "\n")
	},
	// invalid-utf8-config: a config whose line 2 holds n bytes that are not UTF-8.
	"invalid-utf8-config": func(n int) []byte {
		return []byte("sources: []\npolicy: {scope: {ignore: [\"" + strings.Repeat("\xff", n) + "\"]}}\n")
	},
	// invalid-utf8-csv: a CSV manifest users file whose row 2 holds n bytes that are not
	// UTF-8.
	"invalid-utf8-csv": func(n int) []byte {
		return []byte("userName,displayName\nada@example.com,Ada " + strings.Repeat("\xfe", n) + "\n")
	},
	// invalid-utf8-ldif: an LDIF entry whose cn holds n bytes that are not UTF-8.
	"invalid-utf8-ldif": func(n int) []byte {
		return []byte("dn: uid=ada,ou=people,dc=example,dc=test\nobjectClass: inetOrgPerson\nuid: ada\ncn: Ada " + strings.Repeat("\xc3", n) + "\nsn: Lovelace\nmail: ada@example.com\n")
	},
}

// TestCSVFormulaStaysText applies a CSV manifest whose cells look like spreadsheet
// formulas: they are plain text to scimsync, reach Databricks exactly as written, and are
// written to the plan file as they are.
func TestCSVFormulaStaysText(t *testing.T) {
	names := map[string]string{
		"f1@example.com": `=HYPERLINK("http://192.0.2.1/x","click")`,
		"f2@example.com": `+cmd|' /C calc'!A0`,
		"f3@example.com": `-2+3`,
		"f4@example.com": `@SUM(1+1)`,
	}
	var csv strings.Builder
	csv.WriteString("userName,displayName\n")
	for _, u := range slices.Sorted(maps.Keys(names)) {
		fmt.Fprintf(&csv, "%s,\"%s\"\n", u, strings.ReplaceAll(names[u], `"`, `""`))
	}
	a := startAccount(t, emulator.Options{})
	a.write(t, map[string]string{
		"users.csv":     csv.String(),
		"scimsync.yaml": "sources:\n  - kind: csv\n    users: users.csv\npolicy:\n  protected:\n    users: [" + exampleAdmin + "]\n    servicePrincipals: [7e3c5a2b-1d4f-4e6a-8b9c-0d1e2f3a4b5c]\napply:\n  rateLimit: 1000\n",
	})
	if r := a.run(t, "plan", "-o", "plan.json"); r.code != 0 {
		t.Fatalf("plan: %s", r)
	}
	planFile, err := os.ReadFile(filepath.Join(a.dir, "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r := a.run(t, "apply", "plan.json"); r.code != 0 {
		t.Fatalf("apply: %s", r)
	}
	got := map[string]string{}
	for _, u := range a.srv.ManagedState().Users {
		got[u.UserName] = u.DisplayName
	}
	for u, want := range names {
		if got[u] != want {
			t.Errorf("%s: displayName %q in the account, declared %q", u, got[u], want)
		}
		quoted, _ := json.Marshal(want)
		if !strings.Contains(string(planFile), string(quoted)) {
			t.Errorf("the plan file does not hold %s as written", quoted)
		}
	}
}
