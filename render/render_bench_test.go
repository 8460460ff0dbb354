package render_test

import (
	"io"
	"testing"
	"time"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/policy"
	"github.com/scimsync/scimsync/render"
	"github.com/scimsync/scimsync/synth"
)

// The benchmarks of this file render the largest plans of the sizes of issue 7: every
// identity of synth.Medium or synth.Large created into an empty account.
//
//	go test ./render -run '^$' -bench . -benchmem
//
// Size L is skipped under -short.

var renderSizes = []struct {
	name string
	spec synth.Spec
}{{"M", synth.Medium}, {"L", synth.Large}}

func benchPlan(b *testing.B, spec synth.Spec) *plan.Plan {
	target := plan.TargetID{Level: model.LevelAccount, Host: "http://127.0.0.1", AccountID: "bench"}
	p, err := plan.Diff(synth.Org(1, spec), &model.State{}, policy.Default(), plan.Options{Target: target, Now: time.Unix(0, 0)})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// countingWriter counts what is written to it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

func benchmarkRender(b *testing.B, render func(io.Writer, *plan.Plan) error) {
	for _, size := range renderSizes {
		b.Run(size.name, func(b *testing.B) {
			if size.name == "L" && testing.Short() {
				b.Skip("size L is skipped under -short")
			}
			p := benchPlan(b, size.spec)
			var w countingWriter
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				w.n = 0
				if err := render(&w, p); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(w.n)
			b.ReportMetric(float64(len(p.Changes)), "changes")
		})
	}
}

func BenchmarkText(b *testing.B) {
	benchmarkRender(b, func(w io.Writer, p *plan.Plan) error { return render.Text(w, p, render.Options{}) })
}

func BenchmarkMarkdown(b *testing.B) {
	benchmarkRender(b, func(w io.Writer, p *plan.Plan) error { return render.Markdown(w, p, render.MarkdownOptions{}) })
}
