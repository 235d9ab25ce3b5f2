package decision

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/util"
)

// DataFile is the name diagnostics give the data tables.
const DataFile = "data.json"

// ReadSource reads a policy folder (policies.FS, or os.DirFS for `credo policy test --dir`):
// every *.rego file, in subfolders too, named by its slash path, and data.json at the root
// ("{}" when there is none). Other files (README.md, schema/) are not part of a version.
func ReadSource(fsys fs.FS) (modules map[string]string, data []byte, err error) {
	modules = map[string]string{}
	err = fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".rego") {
			return nil
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		modules[path] = string(b)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read policy modules: %w", err)
	}
	data, err = fs.ReadFile(fsys, DataFile)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		data = []byte("{}")
	default:
		return nil, nil, fmt.Errorf("read %s: %w", DataFile, err)
	}
	return modules, data, nil
}

// ContentHash identifies a policy version by content: sha256 over the sorted file names with
// their sources, then the data tables in canonical JSON (keys sorted, no spacing), so reformatting
// data.json does not change it but any edit to a module or a value does. It is "sha256:" and 64
// hex digits.
func ContentHash(modules map[string]string, data []byte) (string, error) {
	canonical, err := canonicalJSON(data)
	if err != nil {
		return "", fmt.Errorf("%s: %w", DataFile, err)
	}
	h := sha256.New()
	// Length prefixes keep "a"+"bc" and "ab"+"c" apart.
	for _, name := range slices.Sorted(maps.Keys(modules)) {
		src := modules[name]
		h.Write([]byte("module " + strconv.Itoa(len(name)) + " " + name + " " + strconv.Itoa(len(src)) + "\n"))
		h.Write([]byte(src))
	}
	h.Write([]byte("data " + strconv.Itoa(len(canonical)) + "\n"))
	h.Write(canonical)
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// canonicalJSON re-encodes a JSON document with sorted keys and no spacing; numbers keep their
// text (500000.00 stays 500000.00).
func canonicalJSON(data []byte) ([]byte, error) {
	var v any
	if err := util.UnmarshalJSON(data, &v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
