package plan

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzDecode checks that any input either decodes into a plan or is refused with a
// *FormatError, never a panic, and that a decoded plan encodes back to a file that decodes
// to the same plan: what apply reads is what the file says.
func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/scenarios/*/plan.golden.json")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
			f.Add(data[:len(data)/2])
		}
	}
	f.Add([]byte(`{"formatVersion": 1}`))
	f.Add([]byte(`{"formatVersion": 2, "changes": []}`))
	f.Add([]byte(`{"formatVersion": 2, "changes": [{"action": "create"}], "checksum": "sha256:00"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Decode(bytes.NewReader(data))
		if err != nil {
			if p != nil {
				t.Fatalf("Decode returned a plan with error %v", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := Encode(&buf, p); err != nil {
			t.Fatalf("a decoded plan does not encode: %v", err)
		}
		q, err := Decode(&buf)
		if err != nil {
			t.Fatalf("a re-encoded plan does not decode: %v\n%s", err, buf.String())
		}
		if diff := cmp.Diff(p, q); diff != "" {
			t.Fatalf("the plan changed through Encode and Decode (-first +second):\n%s", diff)
		}
	})
}
