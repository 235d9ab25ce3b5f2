package sanctions

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/credorisk/credo/internal/fault"
)

// ReadListFiles reads a list's raw files for an offline load: for OFAC, path is a directory
// holding sdn.csv, alt.csv, add.csv and optionally sdn_comments.csv (names in any case, as
// published or as saved); for the other sources, path is the one file. It returns the files in
// ParseOFAC's order and a description of where they came from.
func ReadListFiles(src Source, path string) ([][]byte, string, error) {
	if !src.Valid() {
		return nil, "", fault.Validation("unknown source", fault.Field("source", "must be one of ofac, un, eu, uk, fr"))
	}
	if src != SourceOFAC {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, "", fmt.Errorf("read the %s list: %w", src, err)
		}
		return [][]byte{b}, filepath.Base(path), nil
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, "", fmt.Errorf("read the OFAC directory: %w", err)
	}
	var files [][]byte
	var names []string
	for _, f := range ofacFiles {
		found := ""
		for _, e := range ents {
			if !e.IsDir() && strings.EqualFold(e.Name(), f.name) {
				found = e.Name()
			}
		}
		if found == "" {
			if f.optional {
				break
			}
			return nil, "", fmt.Errorf("%s holds no %s (the OFAC legacy CSV files sdn.csv, alt.csv, add.csv and optionally sdn_comments.csv)", path, strings.ToLower(f.name))
		}
		b, err := os.ReadFile(filepath.Join(path, found))
		if err != nil {
			return nil, "", fmt.Errorf("read the OFAC list: %w", err)
		}
		files, names = append(files, b), append(names, found)
	}
	return files, strings.Join(names, ", "), nil
}

// parseList parses a version's raw files: OFAC's in ofacFiles order (comments may be absent),
// one file for the others.
func parseList(src Source, files [][]byte) ([]Entry, error) {
	r := func(i int) io.Reader { return bytes.NewReader(files[i]) }
	switch {
	case src == SourceOFAC && (len(files) == 3 || len(files) == 4):
		var comments io.Reader
		if len(files) == 4 {
			comments = r(3)
		}
		return ParseOFAC(r(0), r(1), r(2), comments)
	case src == SourceOFAC:
		return nil, fmt.Errorf("ofac: want 3 or 4 files, got %d", len(files))
	case len(files) != 1:
		return nil, fmt.Errorf("%s: want one file, got %d", src, len(files))
	}
	switch src {
	case SourceUN:
		return ParseUN(r(0))
	case SourceEU:
		return ParseEU(r(0))
	case SourceUK:
		return ParseUK(r(0))
	case SourceFR:
		return ParseFR(r(0))
	}
	return nil, fmt.Errorf("unknown source %q", src)
}

// candidate is a list version offered for acceptance.
type candidate struct {
	src        Source
	files      [][]byte
	origin     Origin
	location   string
	validators map[string]Validator
	actor      string
	force      bool // accept fewer than half the previous entries (an operator's deliberate load)
}

// errRefused marks a candidate version that was refused; the loaded version stays.
type errRefused struct{ err error }

func (e *errRefused) Error() string { return e.err.Error() }
func (e *errRefused) Unwrap() error { return e.err }

// accept stores a candidate version and serves it, unless it is the current content already
// (OutcomeUnchanged) or it is refused: unparsable, empty, or fewer than half the previous
// entries. A refused version changes nothing.
func (s *Service) accept(ctx context.Context, c candidate) (ListVersion, Outcome, error) {
	prev, err := s.state(ctx, c.src)
	if err != nil {
		return ListVersion{}, "", err
	}
	readers := make([]io.Reader, len(c.files))
	for i, f := range c.files {
		readers[i] = bytes.NewReader(f)
	}
	hash, err := ContentHash(readers...)
	if err != nil {
		return ListVersion{}, "", err
	}
	var prevID int64
	prevCount := 0
	if prev.Current != nil {
		if prev.Current.ContentHash == hash {
			return *prev.Current, OutcomeUnchanged, nil
		}
		prevID, prevCount = prev.Current.ID, prev.Current.EntryCount
	}
	entries, err := parseList(c.src, c.files)
	if err != nil {
		return ListVersion{}, OutcomeRefused, &errRefused{fault.Errorf(fault.Invalid, "the %s list is not usable: %v", c.src, err)}
	}
	if !c.force {
		if err := CheckReplacement(prevCount, len(entries)); err != nil {
			return ListVersion{}, OutcomeRefused, &errRefused{fault.Errorf(fault.Invalid, "the %s list looks truncated: %v", c.src, err)}
		}
	}
	v, err := s.store.AddListVersion(ctx, ListVersion{Source: c.src, ContentHash: hash, EntryCount: len(entries),
		Origin: c.origin, Location: c.location, LoadedBy: c.actor}, entries, c.validators, prevID, c.actor)
	if err != nil {
		return ListVersion{}, "", err
	}
	if s.active.Load() {
		s.listMu.Lock()
		if cur := s.cur.Load(); cur == nil || cur.versions[c.src].ID < v.ID {
			s.install(map[Source]sourceLists{c.src: {version: v, entries: entries}})
		}
		s.listMu.Unlock()
	}
	return v, OutcomeLoaded, nil
}

// state is the stored state of one source (empty when it has none).
func (s *Service) state(ctx context.Context, src Source) (ListState, error) {
	states, err := s.store.ListStates(ctx)
	if err != nil {
		return ListState{}, err
	}
	for _, st := range states {
		if st.Source == src {
			return st, nil
		}
	}
	return ListState{Source: src}, nil
}

// LoadFiles loads a list version from raw files read by ReadListFiles (`credo sanctions load`).
// Unparsable files, or fewer than half the previous entries without force, are refused with a
// fault.Invalid error naming the cause, and the loaded lists stay as they were. Loading the
// current content again changes nothing and reports OutcomeUnchanged.
func (s *Service) LoadFiles(ctx context.Context, src Source, files [][]byte, location, actor string, force bool) (ListVersion, Outcome, error) {
	if !src.Valid() {
		return ListVersion{}, "", fault.Validation("unknown source", fault.Field("source", "must be one of ofac, un, eu, uk, fr"))
	}
	return s.accept(ctx, candidate{src: src, files: files, origin: OriginFile, location: location, actor: actor, force: force})
}

// ListStatus is one list as GET /v1/sanctions/lists shows it.
type ListStatus struct {
	Source Source `json:"source"`
	// Version is the version this process serves (the stored current one for a process that
	// serves nothing, such as the command line); nil when the list was never loaded.
	Version *ListVersion `json:"version"`
	// AgeSeconds is the time since that version was loaded.
	AgeSeconds *int64 `json:"age_seconds,omitempty"`
	// StoredVersionID is the current version in Postgres when this process has not loaded it
	// yet (it will within the sync interval).
	StoredVersionID *int64      `json:"stored_version_id,omitempty"`
	Refresh         RefreshInfo `json:"refresh"`
}

// RefreshInfo is a list's refresh job: where from, the last attempt, and when the next is due.
type RefreshInfo struct {
	Enabled       bool            `json:"enabled"`
	URL           string          `json:"url,omitempty"` // without user info or query
	Last          *RefreshOutcome `json:"last,omitempty"`
	LastSuccessAt *time.Time      `json:"last_success_at,omitempty"`
	NextAt        *time.Time      `json:"next_at,omitempty"`
}

// ListsReport is GET /v1/sanctions/lists: every source and the index built over the loaded ones.
type ListsReport struct {
	Loaded  bool         `json:"loaded"`
	Entries int          `json:"entries"`
	Names   int          `json:"names"`
	Lists   []ListStatus `json:"lists"`
}

// Lists reports every source's version, age and last refresh.
func (s *Service) Lists(ctx context.Context) (ListsReport, error) {
	states, err := s.store.ListStates(ctx)
	if err != nil {
		return ListsReport{}, err
	}
	bysrc := map[Source]ListState{}
	for _, st := range states {
		bysrc[st.Source] = st
	}
	now := s.Now()
	rep := ListsReport{Lists: []ListStatus{}}
	cur := s.cur.Load()
	if cur != nil {
		rep.Loaded, rep.Entries, rep.Names = true, cur.index.Len(), cur.index.NameCount()
	}
	for _, src := range Sources {
		st := bysrc[src]
		ls := ListStatus{Source: src}
		if cur != nil {
			if v, ok := cur.versions[src]; ok {
				ls.Version = &v
			}
		}
		switch {
		case !s.active.Load():
			ls.Version = st.Current // a command-line process serves nothing: show what is stored
		case st.Current != nil && (ls.Version == nil || ls.Version.ID != st.Current.ID):
			id := st.Current.ID
			ls.StoredVersionID = &id
		}
		if ls.Version != nil {
			age := int64(now.Sub(ls.Version.LoadedAt) / time.Second)
			ls.AgeSeconds = &age
		}
		u, enabled := s.cfg.URLs[src]
		ls.Refresh = RefreshInfo{Enabled: enabled && s.cfg.Refresh > 0, Last: st.LastRefresh, LastSuccessAt: st.LastSuccessAt}
		if enabled {
			ls.Refresh.URL = redactURL(u)
		}
		if ls.Refresh.Enabled {
			next := s.nextRefresh(st, now)
			ls.Refresh.NextAt = &next
		}
		rep.Lists = append(rep.Lists, ls)
	}
	return rep, nil
}
