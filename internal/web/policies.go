package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/policy"
)

type policiesView struct {
	Versions []policy.Version
	Active   int
}

func (c *Console) policies(q *req) error {
	if c.Policies == nil {
		return errNotConfigured("the policy lifecycle")
	}
	list, err := c.Policies.List(q.r.Context(), policy.ListFilter{Limit: 200})
	if err != nil {
		return err
	}
	pv := policiesView{Versions: list}
	for _, v := range list {
		if v.Status == policy.StatusActive {
			pv.Active = v.Version
		}
	}
	q.v.Title = q.v.T("nav.policies")
	q.v.Data = pv
	c.render(q.w, q.r, q.v, http.StatusOK, "policies")
	return nil
}

// pathVersion reads the version number of the path.
func pathVersion(q *req) (int, error) {
	n, err := strconv.Atoi(q.r.PathValue("v"))
	if err != nil || n < 1 {
		return 0, &fault.Error{Code: fault.NotFound, Message: fmt.Sprintf("no policy version %q", q.r.PathValue("v"))}
	}
	return n, nil
}

// sourceFile is a module or the data tables, coloured and numbered, with the diagnostics at
// their lines.
type sourceFile struct {
	Name   string
	Source string
	Lines  []codeLine
	// Diagnostics are those of this file (the ones without a line too).
	Diagnostics []decision.Diagnostic
	IsData      bool
}

// ErrorLines lists the lines holding a diagnostic, for the editor to mark as the person types.
func (f sourceFile) ErrorLines() string {
	var ns []string
	for _, d := range f.Diagnostics {
		if d.Line > 0 {
			ns = append(ns, strconv.Itoa(d.Line))
		}
	}
	return strings.Join(slices.Compact(ns), " ")
}

// sourceFiles lists a version's modules by name, then its data tables pretty-printed, with the
// diagnostics attached to their files.
func sourceFiles(modules map[string]string, data []byte, diags []decision.Diagnostic) []sourceFile {
	byFile := map[string][]decision.Diagnostic{}
	for _, d := range diags {
		byFile[d.File] = append(byFile[d.File], d)
	}
	file := func(name, src string, isData bool) sourceFile {
		at := map[int][]string{}
		for _, d := range byFile[name] {
			if d.Line > 0 {
				at[d.Line] = append(at[d.Line], d.Message)
			}
		}
		return sourceFile{Name: name, Source: src, Lines: codeLines(src, at), Diagnostics: byFile[name], IsData: isData}
	}
	var out []sourceFile
	for _, name := range slices.Sorted(maps.Keys(modules)) {
		out = append(out, file(name, modules[name], false))
	}
	return append(out, file(decision.DataFile, string(data), true))
}

// prettyData indents stored data tables for reading (they are kept as given).
func prettyData(data []byte) []byte {
	var buf bytes.Buffer
	if json.Indent(&buf, data, "", "  ") != nil {
		return data
	}
	return buf.Bytes()
}

// policyView is a version's page, with the outcome of the last action taken on it.
type policyView struct {
	Version     policy.Version
	Active      int
	Files       []sourceFile
	Diff        *policy.DiffReport
	DiffLines   []diffLine
	Tests       *policy.TestReport
	Replay      *policy.ReplayReport
	Transitions []transition
	ReplayForm  replayForm
	Refusal     *errorView
}

type replayForm struct {
	From, To, Limit string
}

func (c *Console) policyPage(q *req) error {
	if c.Policies == nil {
		return errNotConfigured("the policy lifecycle")
	}
	pv, err := c.loadPolicy(q)
	if err != nil {
		return err
	}
	switch q.r.URL.Query().Get("done") {
	case "activated":
		q.v.Flash = q.v.Tf("policy.activated_flash", pv.Version.Version)
	case "rolled_back":
		q.v.Flash = q.v.Tf("policy.rolled_back", pv.Version.Version)
	case "created":
		q.v.Flash = q.v.Tf("policy.created_flash", pv.Version.Version)
	}
	c.showPolicy(q, pv, http.StatusOK)
	return nil
}

// loadPolicy reads the version of the path, its diff against the active version and the
// default replay period (the last 30 days).
func (c *Console) loadPolicy(q *req) (*policyView, error) {
	n, err := pathVersion(q)
	if err != nil {
		return nil, err
	}
	ctx := q.r.Context()
	v, err := c.Policies.Get(ctx, n)
	if err != nil {
		return nil, err
	}
	pv := &policyView{Version: v, Files: sourceFiles(v.Modules, prettyData(v.Data), nil)}
	active, err := c.Policies.Active(ctx)
	switch {
	case fault.Code(err) == fault.NotFound:
	case err != nil:
		return nil, err
	default:
		pv.Active = active.Version
	}
	if pv.Active != 0 && pv.Active != n {
		d, err := c.Policies.Diff(ctx, n, pv.Active)
		if err != nil {
			return nil, err
		}
		pv.Diff, pv.DiffLines = &d, diffLines(d.Diff)
	}
	today := ledger.DateFromTime(c.Now())
	pv.ReplayForm = replayForm{From: today.AddDays(-30).String(), To: today.String()}
	return pv, nil
}

func (c *Console) showPolicy(q *req, pv *policyView, status int) {
	q.v.Title = q.v.Tf("policy.title", pv.Version.Version)
	q.v.Data = pv
	c.render(q.w, q.r, q.v, status, "policy")
}

// diffLine is one line of a unified diff with its kind (add, del, hunk, file or ctx).
type diffLine struct {
	Kind, Text string
}

func diffLines(diff string) []diffLine {
	var out []diffLine
	for _, l := range strings.Split(strings.TrimRight(diff, "\n"), "\n") {
		kind := "ctx"
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
			kind = "file"
		case strings.HasPrefix(l, "@@"):
			kind = "hunk"
		case strings.HasPrefix(l, "+"):
			kind = "add"
		case strings.HasPrefix(l, "-"):
			kind = "del"
		}
		out = append(out, diffLine{Kind: kind, Text: l})
	}
	return out
}

// editorView is the draft editor: the files being written, the parent they start from, and the
// diagnostics of the last attempt.
type editorView struct {
	Parent  int
	Files   []sourceFile
	NewName string
	NewSrc  string
	Comment string
	Problem *errorView
}

func (c *Console) policyEditor(q *req) error {
	if c.Policies == nil {
		return errNotConfigured("the policy lifecycle")
	}
	ctx := q.r.Context()
	var parent policy.Version
	var err error
	if p := q.r.URL.Query().Get("parent"); p != "" {
		n, perr := strconv.Atoi(p)
		if perr != nil || n < 1 {
			return &fault.Error{Code: fault.BadRequest, Message: "the parent must be a version number"}
		}
		parent, err = c.Policies.Get(ctx, n)
	} else {
		parent, err = c.Policies.Active(ctx)
	}
	if err != nil {
		return err
	}
	ev := editorView{Parent: parent.Version, Files: sourceFiles(parent.Modules, prettyData(parent.Data), nil)}
	c.showEditor(q, &ev, http.StatusOK)
	return nil
}

func (c *Console) showEditor(q *req, ev *editorView, status int) {
	q.v.Title = q.v.T("editor.title")
	q.v.Data = ev
	c.render(q.w, q.r, q.v, status, "editor")
}

// Form field names of the editor: a module's source is "module:<file>", its removal
// "remove:<file>".
const (
	moduleField = "module:"
	removeField = "remove:"
)

// createPolicy stores the edited files as a new draft, or shows the editor again with the
// diagnostics at their lines.
func (c *Console) createPolicy(q *req) error {
	if c.Policies == nil {
		return errNotConfigured("the policy lifecycle")
	}
	f := q.r.PostForm
	ev := &editorView{Comment: strings.TrimSpace(f.Get("comment")), NewName: strings.TrimSpace(f.Get("new_name")), NewSrc: f.Get("new_src")}
	d := policy.Draft{Modules: map[string]*string{}, Comment: ev.Comment}
	if p := f.Get("parent"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return &fault.Error{Code: fault.BadRequest, Message: "the parent must be a version number"}
		}
		d.Parent, ev.Parent = &n, n
	}
	shown := map[string]string{}
	for key, vals := range f {
		name, ok := strings.CutPrefix(key, moduleField)
		if !ok || name == "" || len(vals) != 1 {
			continue
		}
		src := normalizeNewlines(vals[0])
		shown[name] = src
		if f.Get(removeField+name) != "" {
			d.Modules[name] = nil
			continue
		}
		d.Modules[name] = &src
	}
	if ev.NewName != "" {
		if _, dup := shown[ev.NewName]; dup || ev.NewName == decision.DataFile {
			return c.editorProblem(q, ev, shown, f.Get("data"), fault.Validation("the draft is not valid",
				fault.Field("new_name", "a file called %s is already in the draft", ev.NewName)))
		}
		src := normalizeNewlines(ev.NewSrc)
		d.Modules[ev.NewName] = &src
	}
	data := normalizeNewlines(f.Get("data"))
	if strings.TrimSpace(data) != "" {
		d.Data = json.RawMessage(data)
	}
	v, err := c.Policies.Create(q.r.Context(), d, q.who.Name)
	if err != nil {
		if ev.NewName != "" {
			shown[ev.NewName] = normalizeNewlines(ev.NewSrc)
			ev.NewName, ev.NewSrc = "", ""
		}
		return c.editorProblem(q, ev, shown, data, err)
	}
	c.Log.Info("console: policy draft created", "version", v.Version, "key", q.who.Name)
	http.Redirect(q.w, q.r, fmt.Sprintf("%s/policies/%d?done=created", consolePath, v.Version), http.StatusSeeOther)
	return nil
}

// editorProblem shows the editor again with what the person wrote and why it was refused: a
// compile error's diagnostics at their lines, or a validation error's fields. Other errors fail
// the page.
func (c *Console) editorProblem(q *req, ev *editorView, shown map[string]string, data string, err error) error {
	var ce *decision.CompileError
	var fe *fault.Error
	var diags []decision.Diagnostic
	switch {
	case errors.As(err, &ce):
		diags = ce.Diagnostics
		ev.Problem = &errorView{Status: http.StatusUnprocessableEntity, Message: q.v.Tf("editor.diagnostics", len(diags))}
	case errors.As(err, &fe) && (fe.Code == fault.Invalid || fe.Code == fault.BadRequest):
		ev.Problem = &errorView{Status: http.StatusUnprocessableEntity, Message: fe.Message, Fields: fe.Fields}
	default:
		return err
	}
	ev.Files = sourceFiles(shown, []byte(data), diags)
	c.showEditor(q, ev, http.StatusUnprocessableEntity)
	return nil
}

// normalizeNewlines undoes the CRLF a browser sends for a textarea's line breaks: the stored
// source keeps the newlines its author typed.
func normalizeNewlines(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
