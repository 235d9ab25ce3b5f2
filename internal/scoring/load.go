package scoring

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/credorisk/credo/internal/fault"
)

const (
	filePrefix = "scorecard-"
	fileSuffix = ".yaml"
)

// LoadModels reads every *.yaml file at the root of fsys (models.FS in production), each named
// scorecard-<version>.yaml with that same version inside. It returns them by ascending version.
// One broken file refuses the lot: serving with a model silently left out would change which
// one is newest. The error lists every problem of every file, each naming its file and line.
func LoadModels(fsys fs.FS) ([]*Model, error) {
	names, err := fs.Glob(fsys, "*"+fileSuffix)
	if err != nil {
		return nil, fmt.Errorf("list model files: %w", err)
	}
	var models []*Model
	var errs []error
	for _, name := range names {
		m, err := loadFile(fsys, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		models = append(models, m)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(models) == 0 {
		return nil, fault.Errorf(fault.NotFound, "no scorecard file (%s<version>%s) found", filePrefix, fileSuffix)
	}
	sortModels(models)
	for i := 1; i < len(models); i++ {
		if a, b := models[i-1], models[i]; CompareVersions(a.version, b.version) == 0 {
			return nil, fault.Errorf(fault.Invalid, "%s and %s have the same version %s", a.file, b.file, b.version)
		}
	}
	return models, nil
}

func loadFile(fsys fs.FS, name string) (*Model, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("read model %s: %w", name, err)
	}
	fileVersion, ok := strings.CutPrefix(strings.TrimSuffix(name, fileSuffix), filePrefix)
	if !ok {
		p := &problems{file: name}
		p.add(1, "", "a model file must be named %s<version>%s", filePrefix, fileSuffix)
		return nil, p.err()
	}
	m, err := Parse(name, data)
	if err != nil {
		return nil, err
	}
	if m.version != fileVersion {
		p := &problems{file: name}
		p.add(m.versionLine, "version", "is %q but the file name says %q", m.version, fileVersion)
		return nil, p.err()
	}
	return m, nil
}

// Select picks the model named by name (the CREDO_MODEL setting): a version ("2026.1") or a file
// name with or without its extension ("scorecard-2026.1.yaml"). An empty name picks the newest
// version. models must come from LoadModels.
func Select(models []*Model, name string) (*Model, error) {
	if len(models) == 0 {
		return nil, fault.Errorf(fault.NotFound, "no scoring model loaded")
	}
	name = strings.TrimSpace(name)
	if name == "" {
		newest := models[0]
		for _, m := range models[1:] {
			if CompareVersions(m.version, newest.version) > 0 {
				newest = m
			}
		}
		return newest, nil
	}
	want := strings.TrimPrefix(strings.TrimSuffix(path.Base(name), fileSuffix), filePrefix)
	versions := make([]string, len(models))
	_, err := parseVersion(want)
	for i, m := range models {
		// Numeric equality, as for ordering: 2026.01 and 2026.1.0 name 2026.1.
		if m.version == want || (err == nil && CompareVersions(m.version, want) == 0) {
			return m, nil
		}
		versions[i] = m.version
	}
	return nil, fault.Errorf(fault.NotFound, "scoring model %q not found (available: %s)", name, strings.Join(versions, ", "))
}

// CompareVersions orders dotted version numbers part by part as integers, so 2026.2 < 2026.10;
// a missing part counts as 0 (2026.1 equals 2026.1.0). An unparsable version sorts first.
func CompareVersions(a, b string) int {
	va, errA := parseVersion(a)
	vb, errB := parseVersion(b)
	switch {
	case errA != nil || errB != nil:
		return compareBool(errA == nil, errB == nil)
	}
	for i := 0; i < max(len(va), len(vb)); i++ {
		var x, y int
		if i < len(va) {
			x = va[i]
		}
		if i < len(vb) {
			y = vb[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
}

// parseVersion reads numbers separated by dots: "2026.1", "2027.3.2".
func parseVersion(s string) ([]int, error) {
	parts := strings.Split(s, ".")
	out := make([]int, len(parts))
	for i, part := range parts {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 || part == "" || part[0] == '+' || part[0] == '-' {
			return nil, fmt.Errorf("version %q must be numbers separated by dots, such as 2026.1", s)
		}
		out[i] = n
	}
	return out, nil
}
