package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// The plan file is the plan's JSON, compact, with a checksum: a SHA-256 of the canonical
// bytes, which are the compact JSON that encoding/json writes for the plan with an empty
// checksum. Encode marshals the plan once and splices the checksum into the same bytes.
// Decode reads the file into memory once and makes three passes over those bytes, without
// copying or re-encoding them:
//
//  1. a strict check of the structure: every key spelled exactly as the format names it
//     (encoding/json would match "Changes" to changes), no unknown keys, no key twice in
//     one object (encoding/json would keep the last), and the format version first;
//  2. the checksum over the canonical bytes (an indented file is compacted first);
//  3. encoding/json into the Plan, and each change's payload checked against its action.
//
// So what apply reads is exactly what the checksum covers, and what any other JSON reader
// sees. The checksum catches truncated and carelessly edited files; it is not a signature:
// anyone who can write the file can recompute it (see SECURITY.md).

// checksumKey is the plan's last key: its value is left out of the canonical bytes.
const checksumKey = `,"checksum":"`

// Encode writes the plan file: compact JSON with a checksum, and a newline.
func Encode(w io.Writer, p *Plan) error {
	body, err := canonical(p)
	if err != nil {
		return err
	}
	_, err = w.Write(append(body, '\n'))
	return err
}

// EncodeIndent writes the plan file indented, for people to read (show --format json).
// Decode reads it as it reads a compact one: the checksum covers the compact form.
func EncodeIndent(w io.Writer, p *Plan) error {
	body, err := canonical(p)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	out.Grow(len(body) + len(body)/4)
	if err := json.Indent(&out, body, "", "  "); err != nil {
		return fmt.Errorf("encode plan: %w", err)
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// canonical returns the compact plan file of p with its checksum.
func canonical(p *Plan) ([]byte, error) {
	q := *p
	q.Checksum = ""
	body, err := json.Marshal(&q)
	if err != nil {
		return nil, fmt.Errorf("encode plan: %w", err)
	}
	tail := []byte(checksumKey + `"}`)
	if !bytes.HasSuffix(body, tail) {
		// The checksum is the last field of Plan; a change of the struct that breaks this
		// is a programming error.
		panic("plan: the checksum is not the last field of the plan file")
	}
	sum := sha256.Sum256(body)
	out := make([]byte, 0, len(body)+len("sha256:")+hex.EncodedLen(len(sum)))
	out = append(out, body[:len(body)-2]...)
	out = append(out, "sha256:"...)
	out = hex.AppendEncode(out, sum[:])
	return append(out, `"}`...), nil
}

// ErrVersion is returned for a plan file of another format version.
var ErrVersion = errors.New("unsupported plan format version")

// FormatError reports a plan file that cannot be used as it is: malformed, of another
// format version, or altered since it was written.
type FormatError struct {
	Reason string
	Err    error
}

func (e *FormatError) Error() string { return "invalid plan file: " + e.Reason }
func (e *FormatError) Unwrap() error { return e.Err }

// maxPlanBytes bounds the plan files Decode reads.
const maxPlanBytes = 1 << 30

// Decode reads a plan file, compact or indented. It refuses JSON that is not a plan file,
// other format versions, keys that are unknown, spelled in another case or given twice,
// trailing data, files whose checksum does not match their canonical bytes, and changes
// whose payload does not match their action.
func Decode(r io.Reader) (*Plan, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxPlanBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	if len(data) > maxPlanBytes {
		return nil, &FormatError{Reason: fmt.Sprintf("larger than %d MB", maxPlanBytes>>20)}
	}
	if err := checkStructure(data); err != nil {
		return nil, err
	}
	if err := verifyChecksum(data); err != nil {
		return nil, err
	}
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, &FormatError{Reason: jsonErrorText(data, err), Err: err}
	}
	if err := p.checkChanges(); err != nil {
		return nil, err
	}
	return &p, nil
}

// verifyChecksum compares the checksum a plan file records with the SHA-256 of its
// canonical bytes.
func verifyChecksum(data []byte) error {
	c := bytes.TrimRight(data, " \t\r\n")
	if !isCompact(c) {
		var buf bytes.Buffer
		buf.Grow(len(c))
		if err := json.Compact(&buf, c); err != nil {
			return &FormatError{Reason: "not a plan file: " + jsonErrorText(data, err), Err: err}
		}
		c = buf.Bytes()
	}
	mismatch := &FormatError{Reason: "checksum mismatch: the file was changed after it was written; make the plan again"}
	i := bytes.LastIndex(c, []byte(checksumKey))
	if i < 0 || !bytes.HasSuffix(c, []byte(`"}`)) {
		return mismatch
	}
	recorded := string(c[i+len(checksumKey) : len(c)-2])
	h := sha256.New()
	h.Write(c[:i])
	h.Write([]byte(checksumKey + `"}`))
	if "sha256:"+hex.EncodeToString(h.Sum(nil)) != recorded {
		return mismatch
	}
	return nil
}

// isCompact reports whether JSON has no whitespace outside its strings.
func isCompact(data []byte) bool {
	in, esc := false, false
	for _, b := range data {
		switch {
		case esc:
			esc = false
		case in && b == '\\':
			esc = true
		case b == '"':
			in = !in
		case !in && (b == ' ' || b == '\n' || b == '\t' || b == '\r'):
			return false
		}
	}
	return true
}

// checkStructure walks a plan file against the shape of Plan: the first key must be
// formatVersion, of this build's version; every object key must be one the format names,
// spelled exactly, and appear once. Values whose type the walk does not know in detail
// (Attribute's before and after, times) are still checked for repeated keys. The file's
// syntax is checked first, so that the walk, a plain scan of the bytes, meets valid JSON.
func checkStructure(data []byte) error {
	if !json.Valid(data) {
		err := json.Unmarshal(data, new(json.RawMessage))
		return &FormatError{Reason: "not a plan file: " + jsonErrorText(data, err), Err: err}
	}
	w := &walker{data: data}
	w.space()
	if w.peek() != '{' {
		return &FormatError{Reason: "not a plan file: not a JSON object"}
	}
	w.i++
	top := shapeOf(reflect.TypeFor[Plan]())
	seen := map[string]bool{}
	for first := true; w.more(); first = false {
		key, err := w.key(seen, "the plan")
		if err != nil {
			return err
		}
		if first != (key == "formatVersion") {
			return &FormatError{Reason: "not a plan file: no formatVersion"}
		}
		if key == "formatVersion" {
			lit := w.literal()
			v, err := strconv.Atoi(string(lit))
			if err != nil {
				return &FormatError{Reason: "not a plan file: formatVersion is not a number", Err: err}
			}
			if err := checkVersion(v); err != nil {
				return err
			}
			continue
		}
		f, ok := top.fields[key]
		if !ok {
			return w.unknown(key, top, "the plan")
		}
		if err := w.value(f, key); err != nil {
			return err
		}
	}
	if len(seen) == 0 {
		return &FormatError{Reason: "not a plan file: no formatVersion"}
	}
	return nil
}

// shape is what checkStructure knows of a Go type's JSON form.
type shape struct {
	kind   shapeKind
	fields map[string]*shape // objects: the keys, spelled exactly
	elem   *shape            // arrays and maps
}

type shapeKind int

const (
	shapeAny shapeKind = iota // any JSON value; objects in it must not repeat keys
	shapeObject
	shapeMap
	shapeArray
	shapeScalar
)

var (
	shapes     sync.Map // reflect.Type → *shape
	jsonType   = reflect.TypeFor[json.Unmarshaler]()
	textType   = reflect.TypeFor[encoding.TextUnmarshaler]()
	anyShape   = &shape{kind: shapeAny}
	shapeMutex sync.Mutex
)

// shapeOf returns the shape of t's JSON form, as encoding/json decodes it.
func shapeOf(t reflect.Type) *shape {
	if s, ok := shapes.Load(t); ok {
		return s.(*shape)
	}
	shapeMutex.Lock()
	defer shapeMutex.Unlock()
	return buildShape(t, map[reflect.Type]*shape{})
}

func buildShape(t reflect.Type, building map[reflect.Type]*shape) *shape {
	if s, ok := shapes.Load(t); ok {
		return s.(*shape)
	}
	if s, ok := building[t]; ok {
		return s
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(jsonType) || reflect.PointerTo(t).Implements(textType) {
		return anyShape
	}
	s := &shape{}
	building[t] = s
	switch t.Kind() {
	case reflect.Struct:
		s.kind, s.fields = shapeObject, map[string]*shape{}
		addFields(s, t, building)
	case reflect.Map:
		s.kind, s.elem = shapeMap, buildShape(t.Elem(), building)
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			s.kind = shapeScalar // []byte is a base64 string
			break
		}
		s.kind, s.elem = shapeArray, buildShape(t.Elem(), building)
	case reflect.Interface:
		s.kind = shapeAny
	default:
		s.kind = shapeScalar
	}
	shapes.Store(t, s)
	return s
}

// addFields adds the JSON keys of a struct's exported fields, embedded structs flattened.
func addFields(s *shape, t reflect.Type, building map[reflect.Type]*shape) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(s, ft, building)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s.fields[name] = buildShape(f.Type, building)
	}
}

// walker scans one plan file, which json.Valid has accepted.
type walker struct {
	data []byte
	i    int
}

func (w *walker) peek() byte {
	if w.i < len(w.data) {
		return w.data[w.i]
	}
	return 0
}

func (w *walker) space() {
	for w.i < len(w.data) {
		switch w.data[w.i] {
		case ' ', '\t', '\r', '\n':
			w.i++
		default:
			return
		}
	}
}

// more reports whether an object or array has another element, and steps over the comma
// before it, or over the closing delimiter when it has none.
func (w *walker) more() bool {
	w.space()
	switch w.peek() {
	case ',':
		w.i++
		w.space()
		return true
	case '}', ']':
		w.i++
		return false
	}
	return true // the first element
}

// line returns the line of the walker's position.
func (w *walker) line() int {
	return 1 + bytes.Count(w.data[:min(w.i, len(w.data))], []byte("\n"))
}

// str reads a string at the walker's position.
func (w *walker) str() string {
	start := w.i
	w.i++ // the opening quote
	escaped := false
	for w.i < len(w.data) {
		c := w.data[w.i]
		w.i++
		if c == '\\' {
			escaped = true
			w.i++
			continue
		}
		if c == '"' {
			break
		}
	}
	if !escaped {
		return string(w.data[start+1 : w.i-1])
	}
	var s string
	_ = json.Unmarshal(w.data[start:w.i], &s) // valid JSON: cannot fail
	return s
}

// literal reads a number, true, false or null.
func (w *walker) literal() []byte {
	start := w.i
	for w.i < len(w.data) {
		switch w.data[w.i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return w.data[start:w.i]
		}
		w.i++
	}
	return w.data[start:w.i]
}

// key reads an object key and the colon after it, and refuses a key already seen in the
// object.
func (w *walker) key(seen map[string]bool, where string) (string, error) {
	w.space()
	line := w.line
	key := w.str()
	w.space()
	w.i++ // the colon
	w.space()
	if seen[key] {
		return "", &FormatError{Reason: fmt.Sprintf("line %d: key %q twice in %s", line(), key, where)}
	}
	seen[key] = true
	return key, nil
}

// unknown reports a key the format does not name, with the key it differs from only in
// case, if any.
func (w *walker) unknown(key string, s *shape, where string) error {
	for k := range s.fields {
		if strings.EqualFold(k, key) {
			return &FormatError{Reason: fmt.Sprintf("line %d: unknown field %q in %s (keys are case-sensitive: %q)", w.line(), key, where, k)}
		}
	}
	return &FormatError{Reason: fmt.Sprintf("line %d: unknown field %q in %s", w.line(), key, where)}
}

// value walks one value of shape s; where names it in errors.
func (w *walker) value(s *shape, where string) error {
	w.space()
	c := w.peek()
	switch {
	case c == 'n': // null: encoding/json leaves the field as it is
		w.literal()
		return nil
	case c == '"':
		if s.kind == shapeArray || s.kind == shapeObject || s.kind == shapeMap {
			return &FormatError{Reason: fmt.Sprintf("line %d: %s is not %s", w.line(), where, s.kind.what())}
		}
		w.str()
		return nil
	case c != '{' && c != '[':
		if s.kind == shapeArray || s.kind == shapeObject || s.kind == shapeMap {
			return &FormatError{Reason: fmt.Sprintf("line %d: %s is not %s", w.line(), where, s.kind.what())}
		}
		w.literal()
		return nil
	}
	w.i++
	switch {
	case s.kind == shapeAny:
		return w.rest(c, where)
	case s.kind == shapeScalar:
		return &FormatError{Reason: fmt.Sprintf("line %d: %s is not a single value", w.line(), where)}
	case s.kind == shapeArray && c == '[':
		for w.more() {
			if err := w.value(s.elem, where); err != nil {
				return err
			}
		}
		return nil
	case (s.kind == shapeObject || s.kind == shapeMap) && c == '{':
		seen := map[string]bool{}
		for w.more() {
			key, err := w.key(seen, where)
			if err != nil {
				return err
			}
			next := s.elem
			if s.kind == shapeObject {
				f, ok := s.fields[key]
				if !ok {
					return w.unknown(key, s, where)
				}
				next = f
			}
			if err := w.value(next, where+"."+key); err != nil {
				return err
			}
		}
		return nil
	}
	return &FormatError{Reason: fmt.Sprintf("line %d: %s is not %s", w.line(), where, s.kind.what())}
}

// rest walks the rest of an object or array of any shape after its opening delimiter,
// refusing repeated keys.
func (w *walker) rest(open byte, where string) error {
	seen := map[string]bool{}
	for w.more() {
		if open == '{' {
			if _, err := w.key(seen, where); err != nil {
				return err
			}
		}
		if err := w.value(anyShape, where); err != nil {
			return err
		}
	}
	return nil
}

func (k shapeKind) what() string {
	switch k {
	case shapeArray:
		return "a list"
	case shapeObject, shapeMap:
		return "an object"
	}
	return "a value"
}
