package decision

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
)

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// randomSuffix mixes a per-process sequence with 48 random bits, so ids made by several replicas
// in the same microsecond differ.
func randomSuffix(seq uint64) string {
	var b [10]byte
	binary.BigEndian.PutUint32(b[:4], uint32(seq))
	_, _ = rand.Read(b[4:])
	return strings.ToLower(idEncoding.EncodeToString(b[:]))
}
