package solvency

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Store is what the Refresher needs from storage; the Postgres store implements it.
type Store interface {
	// FetchStates lists the clients to keep fresh, with when each provider last answered and
	// last failed for them.
	FetchStates(ctx context.Context) ([]FetchState, error)
	// Company returns one client's company; a fault NotFound error when there is no such client.
	Company(ctx context.Context, clientID string) (Company, error)
	// SaveSnapshot stores a snapshot as the client's latest for its provider and clears the
	// provider's failure flag for the client.
	SaveSnapshot(ctx context.Context, s Snapshot) error
	// RecordFailure notes a failed fetch, which marks the client's data stale until the next
	// success. The last good snapshot stays.
	RecordFailure(ctx context.Context, clientID, provider string, at time.Time, cause error) error
}

// FetchState is a client's company and, per provider name, the fetch time of its latest snapshot
// and the time of its latest failed fetch (absent when none).
type FetchState struct {
	Company      Company
	LastSnapshot map[string]time.Time
	LastFailure  map[string]time.Time
}

// RefresherOptions tune the background refresh.
type RefresherOptions struct {
	MaxAge           time.Duration // snapshots older than this are refreshed (default DefaultMaxAge)
	Interval         time.Duration // pause between passes of Run (default 1 minute)
	PerMinute        float64       // fetches per minute across providers, background only (default 20)
	RetryFailedAfter time.Duration // wait after a failed fetch before trying again (default 1 hour)
	// OnSaved runs after each saved snapshot: the integrator invalidates the client's cached score.
	OnSaved func(clientID string)
	Logger  *slog.Logger
	Now     func() time.Time
}

// Refresher keeps snapshots fresh in the background and fetches on demand. Decisions never call
// it: they read stored snapshots.
type Refresher struct {
	store     Store
	providers []Provider
	opts      RefresherOptions
	limiter   *rate.Limiter

	mu          sync.Mutex
	unsupported map[string]string // client|provider -> registration id the provider cannot use
}

// NewRefresher builds a Refresher over the enabled providers.
func NewRefresher(store Store, providers []Provider, opts RefresherOptions) *Refresher {
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Minute
	}
	if opts.PerMinute <= 0 {
		opts.PerMinute = 20
	}
	if opts.RetryFailedAfter <= 0 {
		opts.RetryFailedAfter = time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Refresher{store: store, providers: providers, opts: opts,
		limiter:     rate.NewLimiter(rate.Limit(opts.PerMinute/60), 1),
		unsupported: map[string]string{}}
}

// Run refreshes due snapshots until ctx ends, one pass every Interval. It returns ctx's error.
func (r *Refresher) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if _, err := r.RefreshDue(ctx); err != nil && ctx.Err() == nil {
			r.opts.Logger.Error("solvency refresh pass failed", "error", err.Error())
		}
		t.Reset(r.opts.Interval)
	}
}

// due is one fetch to make.
type due struct {
	company  Company
	provider Provider
	last     time.Time // zero for a client never fetched
}

// RefreshDue makes one pass: every (client, provider) never fetched or older than MaxAge, and not
// failed within RetryFailedAfter, is fetched at the bounded rate, never-fetched clients first,
// then oldest first. A provider whose circuit is open is skipped for the rest of the pass. It
// returns the number of snapshots saved.
func (r *Refresher) RefreshDue(ctx context.Context) (int, error) {
	states, err := r.store.FetchStates(ctx)
	if err != nil {
		return 0, fmt.Errorf("list solvency fetch states: %w", err)
	}
	now := r.opts.Now()
	var work []due
	for _, st := range states {
		for _, p := range r.providers {
			if r.isUnsupported(st.Company, p.Name()) {
				continue
			}
			last, seen := st.LastSnapshot[p.Name()]
			if seen && now.Sub(last) <= r.opts.MaxAge {
				continue
			}
			if failed, ok := st.LastFailure[p.Name()]; ok && failed.After(last) && now.Sub(failed) < r.opts.RetryFailedAfter {
				continue
			}
			work = append(work, due{company: st.Company, provider: p, last: last})
		}
	}
	slices.SortStableFunc(work, func(a, b due) int {
		return cmp.Or(a.last.Compare(b.last), cmp.Compare(a.company.ClientID, b.company.ClientID))
	})
	saved := 0
	down := map[string]bool{}
	for _, w := range work {
		if down[w.provider.Name()] {
			continue
		}
		if err := r.limiter.Wait(ctx); err != nil {
			return saved, err
		}
		_, ok, err := r.fetch(ctx, w.company, w.provider)
		switch {
		case errors.Is(err, ErrCircuitOpen):
			down[w.provider.Name()] = true
		case ctx.Err() != nil:
			return saved, ctx.Err()
		case ok:
			saved++
		}
	}
	return saved, nil
}

// FetchNow fetches every provider for one client at once (the refresh endpoint, a new client),
// saves what succeeded and records what failed. It returns the saved snapshots and the joined
// errors of the providers that failed; a client no provider can look up gets the ErrUnsupported
// error.
func (r *Refresher) FetchNow(ctx context.Context, clientID string) ([]Snapshot, error) {
	c, err := r.store.Company(ctx, clientID)
	if err != nil {
		return nil, err
	}
	type result struct {
		s   Snapshot
		ok  bool
		err error
	}
	results := make([]result, len(r.providers))
	var wg sync.WaitGroup
	for i, p := range r.providers {
		wg.Go(func() {
			s, ok, err := r.fetch(ctx, c, p)
			results[i] = result{s, ok, err}
		})
	}
	wg.Wait()
	var out []Snapshot
	var errs []error
	unsupported := 0
	for _, res := range results {
		switch {
		case res.ok:
			out = append(out, res.s)
		case errors.Is(res.err, ErrUnsupported):
			unsupported++
			if unsupported == len(r.providers) {
				return nil, res.err
			}
		case res.err != nil:
			errs = append(errs, res.err)
		}
	}
	return out, errors.Join(errs...)
}

// fetch asks one provider, then saves the snapshot or records the failure. ok is true when a
// snapshot was saved.
func (r *Refresher) fetch(ctx context.Context, c Company, p Provider) (Snapshot, bool, error) {
	s, err := p.Fetch(ctx, c)
	switch {
	case errors.Is(err, ErrUnsupported):
		r.markUnsupported(c, p.Name())
		return Snapshot{}, false, err
	case errors.Is(err, ErrCircuitOpen), ctx.Err() != nil && err != nil:
		// The provider is down or we are stopping: nothing about this client to record.
		return Snapshot{}, false, err
	case err != nil:
		if rerr := r.store.RecordFailure(ctx, c.ClientID, p.Name(), r.opts.Now(), err); rerr != nil {
			r.opts.Logger.Error("record solvency failure", "client_id", c.ClientID, "provider", p.Name(), "error", rerr.Error())
		}
		return Snapshot{}, false, err
	}
	if err := s.Validate(); err != nil {
		// An adapter bug must not land in storage; treat it as a failed fetch.
		err = fmt.Errorf("solvency provider %s produced an invalid snapshot: %w", p.Name(), err)
		if rerr := r.store.RecordFailure(ctx, c.ClientID, p.Name(), r.opts.Now(), err); rerr != nil {
			r.opts.Logger.Error("record solvency failure", "client_id", c.ClientID, "provider", p.Name(), "error", rerr.Error())
		}
		return Snapshot{}, false, err
	}
	if err := r.store.SaveSnapshot(ctx, s); err != nil {
		return Snapshot{}, false, fmt.Errorf("save %s snapshot of client %s: %w", p.Name(), c.ClientID, err)
	}
	if r.opts.OnSaved != nil {
		r.opts.OnSaved(c.ClientID)
	}
	return s, true, nil
}

func (r *Refresher) isUnsupported(c Company, provider string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ok := r.unsupported[c.ClientID+"|"+provider]
	return ok && id == c.Country+"|"+c.RegistrationID
}

// markUnsupported remembers that a provider cannot look this company up, until its registration
// id or country changes, so the background loop does not ask again every pass.
func (r *Refresher) markUnsupported(c Company, provider string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unsupported[c.ClientID+"|"+provider] = c.Country + "|" + c.RegistrationID
}
