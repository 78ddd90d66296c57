package payload

import (
	"math/rand"
	"testing"
	"unicode/utf8"
)

func TestUTF8(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, n := range []int{0, 1, 2, 3, 4, 5, 7, 1024, 1 << 20} {
		s := UTF8(r, n)
		if len(s) != n || !utf8.ValidString(s) {
			t.Fatalf("UTF8(%d): %d bytes, valid %v", n, len(s), utf8.ValidString(s))
		}
		if n < 1024 {
			continue
		}
		// A large payload must mix every width, or it tests nothing.
		widths := map[int]bool{}
		for _, c := range s {
			widths[utf8.RuneLen(c)] = true
		}
		if len(widths) != 4 {
			t.Errorf("UTF8(%d) has widths %v, want 1 to 4", n, widths)
		}
	}
}

func TestAlnum(t *testing.T) {
	s := Alnum(rand.New(rand.NewSource(1)), 4096)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			t.Fatalf("byte %d is %q", i, c)
		}
	}
}
