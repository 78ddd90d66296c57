// Package payload makes the request strings the client sends.
package payload

import (
	"math/rand"
	"strconv"
	"unicode/utf8"
)

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Alnum returns n random bytes from [A-Za-z0-9].
func Alnum(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alnum[r.Intn(len(alnum))]
	}
	return string(b)
}

// UTF8 returns a valid UTF-8 string of exactly n bytes: a random mix of 1-,
// 2-, 3- and 4-byte characters (near the end only widths that still fit).
func UTF8(r *rand.Rand, n int) string {
	b := make([]byte, 0, n)
	var buf [utf8.UTFMax]byte
	for len(b) < n {
		width := 1 + r.Intn(4)
		if rest := n - len(b); width > rest {
			width = 1 + r.Intn(rest)
		}
		k := utf8.EncodeRune(buf[:], runeOfWidth(r, width))
		b = append(b, buf[:k]...)
	}
	return string(b)
}

// runeOfWidth returns a random code point whose UTF-8 encoding has width bytes.
func runeOfWidth(r *rand.Rand, width int) rune {
	switch width {
	case 1:
		return rune(0x20 + r.Intn(0x7f-0x20)) // printable ASCII
	case 2:
		return rune(0x80 + r.Intn(0x800-0x80))
	case 3:
		for {
			c := rune(0x800 + r.Intn(0x10000-0x800))
			if c < 0xd800 || c > 0xdfff { // no surrogates
				return c
			}
		}
	default:
		return rune(0x10000 + r.Intn(0x110000-0x10000))
	}
}

// StudentName is the sname of the put with number sno: "student-<sno>",
// with multi-byte UTF-8 appended on every third call.
func StudentName(sno int32) string {
	name := "student-" + strconv.Itoa(int(sno))
	if sno%3 == 0 {
		name += "-éß中文😀"
	}
	return name
}
