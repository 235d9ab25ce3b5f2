package scoring

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/credorisk/credo/internal/fault"
	"gopkg.in/yaml.v3"
)

// LineError is one problem in a model file, at a line, so that whoever edits the file can go
// straight to it.
type LineError struct {
	File string
	Line int
	Path string // where in the document, e.g. characteristics[2].bins[1].from
	Msg  string
}

func (e *LineError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Path, e.Msg)
}

// problems collects every LineError of one file, so that one load reports them all.
type problems struct {
	file string
	errs []*LineError
}

func (p *problems) add(line int, path, format string, args ...any) {
	p.errs = append(p.errs, &LineError{File: p.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// err returns nil when nothing was wrong, else a fault.Invalid error listing every problem.
func (p *problems) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	fields := make([]fault.FieldError, len(p.errs))
	joined := make([]error, len(p.errs))
	for i, e := range p.errs {
		fields[i] = fault.FieldError{Field: e.Path, Message: e.Msg, Line: e.Line}
		joined[i] = e
	}
	return &fault.Error{Code: fault.Invalid, Message: "invalid scorecard " + p.file, Fields: fields,
		Err: errors.Join(joined...)}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the yaml.v3 parser (not scanner) errors. For these the library prints the
// 0-based line of the construct being parsed (go-yaml/yaml#205), so one is added to get the line
// a person sees in an editor.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found undefined tag handle":             true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

// syntax turns a yaml.v3 syntax error on data into a LineError.
func (p *problems) syntax(err error, data []byte) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if parserProblems[msg] {
		line++
	}
	// An error at the end of the input is placed on the line after the last one; show the last.
	lines := bytes.Count(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		lines++
	}
	p.add(max(1, min(line, lines)), "", "YAML syntax: %s", msg)
}

// deref follows aliases to the node they stand for.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// mapping reads a YAML mapping key by key and reports the keys nobody asked for, which are
// almost always typos (a misspelt "below" would otherwise silently widen a bin).
type mapping struct {
	p     *problems
	path  string
	node  *yaml.Node
	keys  map[string]*yaml.Node // key -> the key node, for its line
	vals  map[string]*yaml.Node
	order []string
	used  map[string]bool
}

// newMapping returns nil (and records a problem) when n is not a mapping.
func newMapping(p *problems, n *yaml.Node, path string) *mapping {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, path, "must be a mapping of keys to values, got %s", describe(n))
		return nil
	}
	m := &mapping{p: p, path: path, node: n, keys: map[string]*yaml.Node{},
		vals: map[string]*yaml.Node{}, used: map[string]bool{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.add(k.Line, path, "keys must be plain words")
			continue
		}
		if prev, dup := m.keys[k.Value]; dup {
			p.add(k.Line, m.sub(k.Value), "key repeated (first at line %d)", prev.Line)
			continue
		}
		m.keys[k.Value], m.vals[k.Value] = k, deref(v)
		m.order = append(m.order, k.Value)
	}
	return m
}

func (m *mapping) sub(key string) string {
	if m.path == "" {
		return key
	}
	return m.path + "." + key
}

// get returns the value of key, or nil (with a problem recorded when required) if absent.
func (m *mapping) get(key string, required bool) *yaml.Node {
	m.used[key] = true
	v, ok := m.vals[key]
	if !ok && required {
		m.p.add(m.node.Line, m.path, "missing required key %q", key)
	}
	return v
}

// has reports whether key is present, valid or not.
func (m *mapping) has(key string) bool {
	_, ok := m.vals[key]
	return ok
}

// done reports the keys that were never read.
func (m *mapping) done() {
	for _, k := range m.order {
		if !m.used[k] {
			m.p.add(m.keys[k].Line, m.sub(k), "unknown key %q", k)
		}
	}
}

// text reads a required or optional string.
func (m *mapping) text(key string, required bool) (string, int) {
	v := m.get(key, required)
	if v == nil {
		return "", m.node.Line
	}
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
		m.p.add(v.Line, m.sub(key), "must be text, got %s", describe(v))
		return "", v.Line
	}
	if required && strings.TrimSpace(v.Value) == "" {
		m.p.add(v.Line, m.sub(key), "must not be empty")
	}
	return v.Value, v.Line
}

// raw reads a scalar as written, whatever YAML would make of it: version 2026.10 must not become
// the float 2026.1.
func (m *mapping) raw(key string) (string, int) {
	v := m.get(key, true)
	if v == nil {
		return "", m.node.Line
	}
	if v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
		m.p.add(v.Line, m.sub(key), "must be a single value, got %s", describe(v))
		return "", v.Line
	}
	return v.Value, v.Line
}

// number reads a finite number; ok is false when absent or wrong (the problem is recorded).
func (m *mapping) number(key string, required bool) (x float64, line int, ok bool) {
	v := m.get(key, required)
	if v == nil {
		return 0, m.node.Line, false
	}
	if tag := v.ShortTag(); v.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") {
		m.p.add(v.Line, m.sub(key), "must be a number, got %s", describe(v))
		return 0, v.Line, false
	}
	if err := v.Decode(&x); err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		m.p.add(v.Line, m.sub(key), "must be a finite number, got %q", v.Value)
		return 0, v.Line, false
	}
	return x, v.Line, true
}

// integer reads a whole number within ±limit.
func (m *mapping) integer(key string, required bool, limit int) (n int, line int, ok bool) {
	v := m.get(key, required)
	if v == nil {
		return 0, m.node.Line, false
	}
	var x int64
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || v.Decode(&x) != nil {
		m.p.add(v.Line, m.sub(key), "must be a whole number, got %s", describe(v))
		return 0, v.Line, false
	}
	if x < -int64(limit) || x > int64(limit) {
		m.p.add(v.Line, m.sub(key), "must be between %d and %d, got %d", -limit, limit, x)
		return 0, v.Line, false
	}
	return int(x), v.Line, true
}

// boolean reads true or false.
func (m *mapping) boolean(key string) (b bool, line int, ok bool) {
	v := m.get(key, false)
	if v == nil {
		return false, m.node.Line, false
	}
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" || v.Decode(&b) != nil {
		m.p.add(v.Line, m.sub(key), "must be true or false, got %s", describe(v))
		return false, v.Line, false
	}
	return b, v.Line, true
}

// sequence reads a required list; ok is false when it is absent or not a list (the problem is
// recorded), so that callers do not pile "nothing in it" problems on top.
func (m *mapping) sequence(key string) (items []*yaml.Node, ok bool) {
	v := m.get(key, true)
	if v == nil {
		return nil, false
	}
	if v.Kind != yaml.SequenceNode {
		m.p.add(v.Line, m.sub(key), "must be a list, got %s", describe(v))
		return nil, false
	}
	if len(v.Content) == 0 {
		m.p.add(v.Line, m.sub(key), "must not be empty")
		return nil, false
	}
	return v.Content, true
}

// describe names what a node holds, for messages such as "must be a number, got text "ten"".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing (null)"
		case "!!str":
			return fmt.Sprintf("text %q", n.Value)
		case "!!bool":
			return "the boolean " + n.Value
		case "!!int", "!!float":
			return "the number " + n.Value
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unsupported YAML node"
}
