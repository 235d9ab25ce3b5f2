package sanctions

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/credorisk/credo/internal/fault"
)

// ContentHash fingerprints a list version from its raw files, in the order given (for OFAC: sdn,
// alt, add, comments). Each file is prefixed by its length so that moving bytes from one file to
// the next changes the hash. Two downloads with the same hash are the same version.
func ContentHash(files ...io.Reader) (string, error) {
	h := sha256.New()
	for i, f := range files {
		part := sha256.New()
		n, err := io.Copy(part, f)
		if err != nil {
			return "", fmt.Errorf("hash file %d: %w", i+1, err)
		}
		var size [8]byte
		binary.BigEndian.PutUint64(size[:], uint64(n))
		h.Write(size[:])
		h.Write(part.Sum(nil))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// CheckReplacement decides whether a newly parsed list may replace the loaded one: never when
// it is empty, and not when it holds fewer than half the previous entries, which is what a
// truncated download or a changed format looks like. The refresh job keeps the last good
// version when this fails. prevCount is 0 when no version was loaded yet.
func CheckReplacement(prevCount, newCount int) error {
	if newCount <= 0 {
		return fault.Errorf(fault.Invalid, "refusing an empty list")
	}
	if prevCount > 0 && newCount*2 < prevCount {
		return fault.Errorf(fault.Invalid, "refusing a list of %d entries to replace one of %d: fewer than half", newCount, prevCount)
	}
	return nil
}
