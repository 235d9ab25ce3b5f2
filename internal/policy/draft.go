package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/fault"
)

// MaxCommentLength bounds a version's or an activation's comment (runes).
const MaxCommentLength = 2000

// Draft is what a credit manager sends to make a new version.
type Draft struct {
	// Parent is the version the draft starts from; nil starts from nothing.
	Parent *int
	// Modules are Rego files by name. With a parent they replace its files of the same name, a
	// nil source removes the parent's file, and the parent's other files are kept; without a
	// parent they are the whole version.
	Modules map[string]*string
	// Data, when given, is the version's data tables (a JSON object); nil keeps the parent's
	// (without a parent: no tables, {}).
	Data    json.RawMessage
	Comment string
}

// Create validates a draft (decision.Compile: syntax, restricted builtins, the input schema,
// the data tables' shape) and stores it as a new version, draft, authored by actor. A draft
// that does not compile is a *decision.CompileError listing each problem with its file, line
// and column.
func (s *Service) Create(ctx context.Context, d Draft, actor string) (Version, error) {
	if actor == "" {
		return Version{}, fault.Validation("a version needs an author", fault.Field("author", "must not be empty"))
	}
	if err := checkComment("comment", d.Comment); err != nil {
		return Version{}, err
	}
	modules, data, err := s.assemble(ctx, d)
	if err != nil {
		return Version{}, err
	}
	eng, err := decision.Compile(ctx, modules, data, s.CompileOptions)
	if err != nil {
		return Version{}, err
	}
	return s.Store.Create(ctx, Version{
		Parent: d.Parent, Status: StatusDraft, Author: actor, Comment: d.Comment, Hash: eng.Hash(),
		Modules: modules, Data: data, Files: fileNames(modules),
	})
}

// assemble applies a draft to its parent: the files and data the new version holds.
func (s *Service) assemble(ctx context.Context, d Draft) (map[string]string, []byte, error) {
	modules := map[string]string{}
	data := []byte("{}")
	if d.Parent != nil {
		parent, err := s.Store.Get(ctx, *d.Parent)
		if fault.Code(err) == fault.NotFound {
			return nil, nil, fault.Validation("the parent version does not exist", fault.Field("parent", "no policy version %d", *d.Parent))
		}
		if err != nil {
			return nil, nil, err
		}
		modules, data = maps.Clone(parent.Modules), parent.Data
	}
	var fields []fault.FieldError
	for _, name := range slices.Sorted(maps.Keys(d.Modules)) {
		src := d.Modules[name]
		field := "modules." + name
		switch {
		case src != nil:
			if !utf8.ValidString(*src) || strings.ContainsRune(*src, 0) {
				fields = append(fields, fault.Field(field, "must be UTF-8 text without NUL characters"))
				continue
			}
			modules[name] = *src
		case d.Parent == nil:
			fields = append(fields, fault.Field(field, "null removes a parent's file, and this draft has no parent"))
		default:
			if _, ok := modules[name]; !ok {
				fields = append(fields, fault.Field(field, "version %d has no such file to remove", *d.Parent))
			}
			delete(modules, name)
		}
	}
	if d.Data != nil {
		trimmed := bytes.TrimSpace(d.Data)
		if len(trimmed) == 0 || trimmed[0] != '{' {
			fields = append(fields, fault.Field("data", "must be a JSON object (leave it out to keep the parent's)"))
		}
		data = trimmed
	}
	if len(fields) > 0 {
		return nil, nil, fault.Validation("the draft is not valid", fields...)
	}
	return modules, data, nil
}

func checkComment(field, c string) error {
	if utf8.RuneCountInString(c) > MaxCommentLength {
		return fault.Validation("the comment is too long", fault.Field(field, "must be at most %d characters", MaxCommentLength))
	}
	return nil
}
