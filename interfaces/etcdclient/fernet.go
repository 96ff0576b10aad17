package etcdclient

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Cross-model requirers cannot grant us their secret, so they put `mtls-cert` in the databag encrypted
// with a Fernet key we shared through our own secret. Fernet (github.com/fernet/spec): a URL-safe base64
// token of version byte 0x80, 8-byte timestamp, 16-byte IV, AES-128-CBC ciphertext (PKCS#7 padded) and an
// HMAC-SHA256 over all of that; the 32-byte key is the signing key followed by the encryption key.

const (
	fernetVersion  = 0x80
	fernetHeader   = 1 + 8 + aes.BlockSize
	fernetMACBytes = sha256.Size
)

// errNotFernet says the value is not shaped like a token at all, so it is taken as plaintext.
var errNotFernet = errors.New("not a Fernet token")

func decodeURLBase64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(strings.TrimSpace(s), "="))
}

// fernetDecrypt returns the plaintext of token under key (both URL-safe base64, padded or not). A value that
// is not token-shaped gives errNotFernet; a token that fails authentication or decryption gives another error.
func fernetDecrypt(key, token string) ([]byte, error) {
	raw, err := decodeURLBase64(token)
	if err != nil || len(raw) < fernetHeader+aes.BlockSize+fernetMACBytes || raw[0] != fernetVersion {
		return nil, errNotFernet
	}
	k, err := decodeURLBase64(key)
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("the Fernet key is not 32 bytes of URL-safe base64")
	}
	signing, encryption := k[:16], k[16:]
	body, sum := raw[:len(raw)-fernetMACBytes], raw[len(raw)-fernetMACBytes:]
	mac := hmac.New(sha256.New, signing)
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), sum) {
		return nil, fmt.Errorf("the Fernet token does not match our key (HMAC mismatch)")
	}
	iv, ciphertext := body[1+8:fernetHeader], body[fernetHeader:]
	if len(ciphertext)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("the Fernet ciphertext is not a whole number of blocks")
	}
	block, err := aes.NewCipher(encryption)
	if err != nil {
		return nil, fmt.Errorf("preparing AES: %w", err)
	}
	plain := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ciphertext)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > aes.BlockSize {
		return nil, fmt.Errorf("the Fernet plaintext has bad padding")
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, fmt.Errorf("the Fernet plaintext has bad padding")
		}
	}
	return plain[:len(plain)-pad], nil
}
