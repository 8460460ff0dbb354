package model

import "unicode"

// IsInvisible reports whether r is a character that shows nothing, or changes how the
// text around it is shown, rather than standing for itself: control characters (C0, C1,
// DEL), format characters (Unicode category Cf: zero-width space, joiner and non-joiner
// U+200B–U+200D, the byte-order mark U+FEFF, the soft hyphen, word joiners, bidirectional
// marks, embeddings, overrides and isolates, tag characters), line and paragraph
// separators, the combining grapheme joiner, variation selectors and the Hangul fillers,
// which render as blank space. Two names that differ only by such characters look the
// same to a reviewer.
func IsInvisible(r rune) bool {
	switch {
	case unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r):
		return true
	case r == 0x034f, // combining grapheme joiner
		r >= 0xfe00 && r <= 0xfe0f, r >= 0xe0100 && r <= 0xe01ef, // variation selectors
		r == 0x115f, r == 0x1160, r == 0x3164, r == 0xffa0, // Hangul fillers
		r == 0x180e, r == 0x2800: // Mongolian vowel separator, braille blank
		return true
	}
	return false
}
