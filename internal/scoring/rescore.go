package scoring

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/solvency"
)

// Summary is what RescoreAll did.
type Summary struct {
	ModelVersion string      `json:"model_version"`
	AsOf         ledger.Date `json:"as_of"`
	Clients      int         `json:"clients"`
	// ByClass counts the clients per risk class (every class of the model, zeros included).
	ByClass map[string]int `json:"by_class"`
	// Recorded counts the history rows added: first scores and changes of score or class.
	Recorded int `json:"recorded"`
	// New counts the clients scored for the first time with this model version.
	New int `json:"new"`
	// ClassChanges counts the clients whose risk class changed, by change, largest first.
	ClassChanges []ClassChange `json:"class_changes"`
	Duration     time.Duration `json:"-"`
}

// ClassChange is a number of clients moved from one risk class to another.
type ClassChange struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Count int    `json:"count"`
}

// ChangedClasses is the number of clients whose class changed.
func (s Summary) ChangedClasses() int {
	n := 0
	for _, c := range s.ClassChanges {
		n += c.Count
	}
	return n
}

// rescoreJobs is how many chunks are in flight at once: one reads its facts from Postgres while
// another is scored, recorded and cached.
const rescoreJobs = 2

// cacheSlots bounds the cache operations of one chunk in flight, below the Redis pool size, so
// that a chunk's thousand writes queue here rather than time out waiting for a connection.
const cacheSlots = 16

// RescoreAll scores every client as of today with the active model: facts in chunks of
// ChunkSize clients, scored on Workers goroutines, history recorded, cache refreshed. progress
// (may be nil) is called after each chunk with the clients done and the total.
//
// The cache is refreshed without resurrecting stale data: each client's cache stamp is read
// before its facts are, so a ledger write committed (and invalidated) while the chunk is scored
// leaves the value written by this run unreachable, as for any fill.
func (s *Service) RescoreAll(ctx context.Context, progress func(done, total int)) (Summary, error) {
	start := time.Now()
	today := s.today()
	ids, err := s.cfg.Store.ClientIDs(ctx)
	if err != nil {
		return Summary{}, fmt.Errorf("list clients: %w", err)
	}
	sum := Summary{ModelVersion: s.model.version, AsOf: today, ByClass: map[string]int{}}
	for _, c := range s.model.classes {
		sum.ByClass[c.name] = 0
	}
	changes := map[[2]string]int{}
	sanctions := s.sanctionsVersion()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	var wg sync.WaitGroup
	jobs := make(chan int, rescoreJobs) // a token per job in flight
	done := 0
	for lo := 0; lo < len(ids) && ctx.Err() == nil; lo += s.cfg.ChunkSize {
		chunk := ids[lo:min(lo+s.cfg.ChunkSize, len(ids))]
		select {
		case jobs <- 0:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-jobs }()
			as, ch, err := s.rescoreChunk(ctx, chunk, today, sanctions)
			if err != nil {
				cancel(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for i := range as {
				sum.ByClass[as[i].Result.RiskClass]++
			}
			sum.Clients += len(as)
			sum.Recorded += len(ch)
			for _, c := range ch {
				switch {
				case c.From == "":
					sum.New++
				case c.From != c.To:
					changes[[2]string{c.From, c.To}]++
				}
			}
			done += len(chunk)
			if progress != nil {
				progress(done, len(ids))
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return Summary{}, err
	}
	for k, n := range changes {
		sum.ClassChanges = append(sum.ClassChanges, ClassChange{From: k[0], To: k[1], Count: n})
	}
	slices.SortFunc(sum.ClassChanges, func(a, b ClassChange) int {
		return cmp.Or(b.Count-a.Count, cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	sum.Duration = time.Since(start)
	return sum, nil
}

// errNoFacts ends the cache refresh of a client the facts did not include (none is deleted
// today; a client created after the chunk was read has no facts in it).
var errNoFacts = errors.New("scoring: client absent from its chunk's facts")

// rescoreChunk scores, records and caches one chunk of clients.
func (s *Service) rescoreChunk(ctx context.Context, ids []string, today ledger.Date, sanctions *string) ([]Assessment, []Change, error) {
	fill := s.startFill(ctx, ids)
	as, changes, cards, err := s.scoreChunk(ctx, ids, today, sanctions)
	fill.finish(cards, err)
	return as, changes, err
}

func (s *Service) scoreChunk(ctx context.Context, ids []string, today ledger.Date, sanctions *string) ([]Assessment, []Change, map[string][]byte, error) {
	// The solvency views are read while the facts are.
	var views map[string]solvency.View
	var viewsErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		if b, ok := s.cfg.Solvency.(SolvencyBatchSource); ok {
			views, viewsErr = b.Views(ctx, ids)
		}
	}()
	facts, err := s.cfg.Facts.FactsByClient(ctx, today, ids)
	<-done
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read the facts of %d clients: %w", len(ids), err)
	}
	if viewsErr != nil {
		return nil, nil, nil, fmt.Errorf("read the solvency of %d clients: %w", len(ids), viewsErr)
	}
	present := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, ok := facts[id]; ok {
			present = append(present, id)
		}
	}
	as := make([]Assessment, len(present))
	cards := make([][]byte, len(present))
	errs := make([]error, s.cfg.Workers)
	var wg sync.WaitGroup
	for w := range s.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(present) && ctx.Err() == nil; i += s.cfg.Workers {
				id := present[i]
				v, known := views[id]
				if views == nil && s.cfg.Solvency != nil {
					if v, known, errs[w] = s.cfg.Solvency.View(ctx, id); errs[w] != nil {
						return
					}
				}
				if as[i], errs[w] = s.assess(id, facts[id], v, known, sanctions); errs[w] != nil {
					return
				}
				if cards[i], errs[w] = as[i].encode(); errs[w] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		return nil, nil, nil, err
	}
	entries := make([]HistoryEntry, len(as))
	for i := range as {
		entries[i] = as[i].historyEntry()
	}
	changes, err := s.cfg.Store.Record(ctx, entries)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("record %d scores: %w", len(entries), err)
	}
	byID := make(map[string][]byte, len(present))
	for i, id := range present {
		byID[id] = cards[i]
	}
	return as, changes, byID, nil
}

// fill refreshes the cached cards of a chunk through Cache.Refresh, whose compute waits for the
// chunk's results: the stamps Refresh reads before calling compute are therefore read before
// the facts, which is what keeps a concurrent invalidation effective.
type fill struct {
	wg    sync.WaitGroup
	ready chan struct{}
	cards map[string][]byte
	err   error
	slots chan struct{}
}

// startFill starts a Refresh per client and returns once every one has read its stamp (entered
// its compute) or finished (joined a refresh already running).
func (s *Service) startFill(ctx context.Context, ids []string) *fill {
	f := &fill{ready: make(chan struct{}), slots: make(chan struct{}, cacheSlots)}
	if s.cfg.Cache == nil {
		return f
	}
	var started sync.WaitGroup
	started.Add(len(ids))
	for _, id := range ids {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			var once sync.Once
			in := func() { once.Do(started.Done) }
			defer in()
			f.slots <- struct{}{}
			_, _ = s.cfg.Cache.Refresh(ctx, id, func(ctx context.Context) ([]byte, error) {
				<-f.slots // the stamp is read; free the slot while the chunk is scored
				in()
				select {
				case <-f.ready:
				case <-ctx.Done():
					f.slots <- struct{}{}
					return nil, ctx.Err()
				}
				f.slots <- struct{}{} // held for the write that follows the return
				if f.err != nil {
					return nil, f.err
				}
				if c, ok := f.cards[id]; ok {
					return c, nil
				}
				return nil, errNoFacts
			})
			<-f.slots
		}()
	}
	started.Wait()
	return f
}

// finish hands the chunk's cards (or its error) to the waiting refreshes and waits for their
// writes.
func (f *fill) finish(cards map[string][]byte, err error) {
	f.cards, f.err = cards, err
	if err == nil && cards == nil {
		f.err = errNoFacts
	}
	close(f.ready)
	f.wg.Wait()
}
