package model

import "testing"

func TestIsInvisible(t *testing.T) {
	for _, r := range []rune{0, '\t', '\n', 0x1b, 0x7f, 0x85, 0x9b, 0xad, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f,
		0x202a, 0x202e, 0x2060, 0x2066, 0x2069, 0x2028, 0x2029, 0xfeff, 0x034f, 0xfe0f, 0x3164, 0xe0041, 0x061c} {
		if !IsInvisible(r) {
			t.Errorf("IsInvisible(%U) = false", r)
		}
	}
	for _, r := range []rune{'a', 'Z', '0', '-', '.', '@', ' ', 'é', 'ß', 0x0430, 'λ', 'ü', '日', 0x1f600} {
		if IsInvisible(r) {
			t.Errorf("IsInvisible(%U) = true", r)
		}
	}
}
