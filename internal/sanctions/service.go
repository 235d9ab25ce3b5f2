package sanctions

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// StatusNotScreened is reported for a client that could not be screened: no list is loaded yet
// (a fresh install), or its name has nothing to screen. A screening failure is never a clear: the
// decision policy sends it to review.
const StatusNotScreened Status = "not_screened"

// systemActor is the audit log's name for screenings and refreshes no person asked for.
const systemActor = "credo:sanctions"

// Service keeps the loaded lists and screens clients against them. It holds the current Index and
// swaps it whole when a list changes; loads list versions from the store at start so that a
// restart or a new replica serves without downloading; refreshes lists from their official
// addresses; and keeps every client's screening current (on client changes and after each list
// change, in the background).
//
// A fresh install with no list at all serves: searches answer fault.Unavailable (503) and client
// screenings StatusNotScreened until a list is loaded.
type Service struct {
	store Store
	cfg   Config
	log   *slog.Logger
	// HTTPClient downloads the lists; its Timeout should be 0 (Config.Timeout bounds each request).
	HTTPClient *http.Client
	// Now is the clock (tests set it).
	Now func() time.Time
	// ScreeningChanged runs after a stored screening's status or hits changed, with the clients'
	// ids: their cached scores and decisions are out of date.
	ScreeningChanged func(ctx context.Context, clientIDs []string)

	started time.Time // when the service was made: the refresh job's start delay counts from it

	cur    atomic.Pointer[lists]
	listMu sync.Mutex // one list change at a time in this process
	active atomic.Bool

	kick    chan struct{}
	pendMu  sync.Mutex
	pending map[string]bool // clients to check, from ClientsChanged
	full    bool            // a pass over every client is due
}

// lists is what one index was built from.
type lists struct {
	index    *Index
	versions map[Source]ListVersion
	entries  map[Source][]Entry
	serial   int64 // the largest version id
}

// NewService returns a service over store. Nothing is loaded until Load.
func NewService(store Store, cfg Config, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	return &Service{store: store, cfg: cfg, log: log, HTTPClient: &http.Client{}, Now: time.Now, started: time.Now(),
		kick: make(chan struct{}, 1), pending: map[string]bool{}}
}

// Load reads the current version of every list from the store and builds the index, so that this
// process serves the lists without downloading them. With no list stored, nothing is loaded and
// screening answers as not screened. After Load, the lists this process accepts are served at once.
func (s *Service) Load(ctx context.Context) error {
	s.active.Store(true)
	_, err := s.sync(ctx)
	return err
}

// Index is the index in use, nil when no list is loaded.
func (s *Service) Index() *Index {
	if l := s.cur.Load(); l != nil {
		return l.index
	}
	return nil
}

// Versions returns the list versions in use, by source.
func (s *Service) Versions() map[Source]ListVersion {
	out := map[Source]ListVersion{}
	if l := s.cur.Load(); l != nil {
		for k, v := range l.versions {
			out[k] = v
		}
	}
	return out
}

// Search ranks listed entries for a query (POST /v1/screenings); the country may be given in
// either case.
func (s *Service) Search(q Query) ([]Match, error) {
	q.Country = strings.ToUpper(strings.TrimSpace(q.Country))
	return s.Index().Search(q)
}

// sync loads the versions the store says are current and that this process does not serve yet.
// It reports whether the lists changed.
func (s *Service) sync(ctx context.Context) (bool, error) {
	states, err := s.store.ListStates(ctx)
	if err != nil {
		return false, fmt.Errorf("read sanctions list states: %w", err)
	}
	s.listMu.Lock()
	defer s.listMu.Unlock()
	old := s.cur.Load()
	next := map[Source]sourceLists{}
	for _, st := range states {
		if st.Current == nil {
			continue
		}
		if old != nil && old.versions[st.Source].ID >= st.Current.ID {
			continue // served already, or newer: the states were read before this process accepted one
		}
		entries, err := s.store.ListEntries(ctx, st.Current.ID)
		if err != nil {
			return false, fmt.Errorf("read %s list version %d: %w", st.Source, st.Current.ID, err)
		}
		if len(entries) == 0 {
			return false, fmt.Errorf("%s list version %d has no entries stored", st.Source, st.Current.ID)
		}
		next[st.Source] = sourceLists{version: *st.Current, entries: entries}
	}
	if len(next) == 0 {
		return false, nil
	}
	s.install(next)
	return true, nil
}

type sourceLists struct {
	version ListVersion
	entries []Entry
}

// install builds the index over the current lists with the changed sources replaced, swaps it
// in, and schedules the rescreen of every client. The caller holds listMu.
func (s *Service) install(changed map[Source]sourceLists) {
	start := time.Now()
	l := &lists{versions: map[Source]ListVersion{}, entries: map[Source][]Entry{}}
	if old := s.cur.Load(); old != nil {
		for k, v := range old.versions {
			l.versions[k], l.entries[k] = v, old.entries[k]
		}
	}
	for src, c := range changed {
		for i := range c.entries {
			c.entries[i].ListVersion = c.version.ContentHash
		}
		l.versions[src], l.entries[src] = c.version, c.entries
	}
	var all []Entry
	for _, src := range Sources {
		all = append(all, l.entries[src]...)
		l.serial = max(l.serial, l.versions[src].ID)
	}
	l.index = NewIndex(all)
	s.cur.Store(l)
	for src, c := range changed {
		s.log.Info("sanctions list in use", "source", src, "version", c.version.ID, "entries", len(c.entries),
			"content_hash", c.version.ContentHash, "loaded_at", c.version.LoadedAt)
	}
	s.log.Info("sanctions index built", "entries", l.index.Len(), "names", l.index.NameCount(), "duration", time.Since(start).String())
	s.requestFull()
}

// loaded returns the lists in use, or fault.Unavailable when none is loaded.
func (s *Service) loaded() (*lists, error) {
	l := s.cur.Load()
	if l == nil {
		return nil, errNotLoaded
	}
	return l, nil
}

// Run keeps the lists and screenings current until ctx ends: it loads versions stored by other
// processes, refreshes each list on its interval, and screens clients whose screening is out of
// date. Call Load first.
func (s *Service) Run(ctx context.Context) {
	s.active.Store(true)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.screenLoop(ctx) }()
	go func() { defer wg.Done(); s.syncLoop(ctx) }()
	if s.cfg.Refresh > 0 && len(s.cfg.URLs) > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); s.refreshLoop(ctx) }()
	}
	wg.Wait()
}

// syncLoop loads versions other processes stored (another replica's refresh, `credo sanctions
// load`) and periodically asks for a catch-up pass over clients changed elsewhere.
func (s *Service) syncLoop(ctx context.Context) {
	var syncC, catchC <-chan time.Time
	if s.cfg.Sync > 0 {
		t := time.NewTicker(s.cfg.Sync)
		defer t.Stop()
		syncC = t.C
	}
	if s.cfg.Catchup > 0 {
		t := time.NewTicker(s.cfg.Catchup)
		defer t.Stop()
		catchC = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-syncC:
			if _, err := s.sync(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("sanctions: loading list versions from postgres failed; serving the loaded ones", "error", err.Error())
			}
		case <-catchC:
			s.requestFull()
		}
	}
}

// sleep waits d or until ctx ends; it reports whether ctx is still alive.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
