package charm

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// randomToken returns n characters from an alphabet that survives YAML and shells unquoted.
func randomToken(n int) (string, error) {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("reading randomness: %w", err)
	}
	for i, b := range buf {
		buf[i] = alphabet[int(b)%len(alphabet)]
	}
	return string(buf), nil
}

func appName(unit string) string {
	app, _, _ := strings.Cut(unit, "/")
	return app
}
