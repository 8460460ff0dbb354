package diag

import (
	"strings"
	"unicode/utf8"
)

// Suggest returns the candidate closest to got, for a "did you mean" hint, or "" when
// none is close: at most a quarter of got's length apart (at least 1, at most 2 edits),
// comparing case-insensitively. Ties go to the earlier candidate.
func Suggest(got string, candidates []string) string {
	limit := min(max(utf8.RuneCountInString(got)/4, 1), 2)
	best, bestDist := "", limit+1
	lower := strings.ToLower(got)
	for _, c := range candidates {
		if c == got {
			continue
		}
		if d := distance(lower, strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// DidYouMean returns ` (did you mean "X"?)` for the closest candidate, or "".
func DidYouMean(got string, candidates []string) string {
	if s := Suggest(got, candidates); s != "" {
		return ` (did you mean "` + s + `"?)`
	}
	return ""
}

// distance is the Levenshtein distance between a and b, in runes.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
