package systemd

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// word is one argument split from a systemd value. separator is set for an
// unquoted, unescaped ";", which separates commands in ExecStartPre= lines.
type word struct {
	text      string
	separator bool
}

// splitWords splits a value the way systemd splits command lines and
// Environment= assignments: whitespace separates words, double and single
// quotes group (also in the middle of a word), and C-style backslash escapes
// are decoded both inside and outside quotes.
func splitWords(s string) ([]word, error) {
	var words []word
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return words, nil
		}
		var b strings.Builder
		plain := true // only unquoted, unescaped characters so far
		for i < len(s) && !isSpace(s[i]) {
			switch c := s[i]; c {
			case '\\':
				r, n, err := unescape(s[i:])
				if err != nil {
					return nil, err
				}
				b.WriteString(r)
				i += n
				plain = false
			case '"', '\'':
				plain = false
				i++
				closed := false
				for i < len(s) {
					if s[i] == c {
						closed = true
						i++
						break
					}
					if s[i] == '\\' {
						r, n, err := unescape(s[i:])
						if err != nil {
							return nil, err
						}
						b.WriteString(r)
						i += n
						continue
					}
					b.WriteByte(s[i])
					i++
				}
				if !closed {
					return nil, fmt.Errorf("unterminated quote in %q", s)
				}
			default:
				b.WriteByte(c)
				i++
			}
		}
		words = append(words, word{text: b.String(), separator: plain && b.String() == ";"})
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// unescape decodes the escape sequence at the start of s (which begins with a
// backslash) and reports how many bytes it used. Unknown escapes keep the
// backslash, as systemd's relaxed mode does.
func unescape(s string) (string, int, error) {
	if len(s) < 2 {
		return "", 0, fmt.Errorf("trailing backslash")
	}
	simple := map[byte]string{
		'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t",
		'v': "\v", '\\': "\\", '"': "\"", '\'': "'", 's': " ", ';': ";",
		' ': " ", '\t': "\t",
	}
	if r, ok := simple[s[1]]; ok {
		return r, 2, nil
	}
	digits := func(start, n, base int) (uint64, error) {
		if len(s) < start+n {
			return 0, fmt.Errorf("short escape sequence in %q", s)
		}
		return strconv.ParseUint(s[start:start+n], base, 32)
	}
	switch s[1] {
	case 'x':
		v, err := digits(2, 2, 16)
		if err != nil {
			return "", 0, fmt.Errorf("invalid \\x escape: %w", err)
		}
		return string([]byte{byte(v)}), 4, nil
	case 'u', 'U':
		n := 4
		if s[1] == 'U' {
			n = 8
		}
		v, err := digits(2, n, 16)
		if err != nil || !utf8.ValidRune(rune(v)) {
			return "", 0, fmt.Errorf("invalid \\%c escape in %q", s[1], s)
		}
		return string(rune(v)), 2 + n, nil
	case '0', '1', '2', '3':
		v, err := digits(1, 3, 8)
		if err != nil {
			return "", 0, fmt.Errorf("invalid octal escape: %w", err)
		}
		return string([]byte{byte(v)}), 4, nil
	}
	return s[:2], 2, nil
}
