package synth

import "testing"

// BenchmarkOrg measures generating the organisations of issue 7, the setup every planning
// benchmark and go run ./bench pay before they measure anything. Size L is skipped under
// -short.
//
//	go test ./synth -run '^$' -bench . -benchmem
func BenchmarkOrg(b *testing.B) {
	for _, size := range []struct {
		name string
		spec Spec
	}{{"S", Small}, {"M", Medium}, {"L", Large}} {
		b.Run(size.name, func(b *testing.B) {
			if size.name == "L" && testing.Short() {
				b.Skip("size L is skipped under -short")
			}
			b.ReportAllocs()
			for range b.N {
				Org(1, size.spec)
			}
		})
	}
}

// BenchmarkChurn measures the 1% churn of the medium organisation.
func BenchmarkChurn(b *testing.B) {
	org := Org(1, Medium)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		Churn(2, org, 0.01)
	}
}
