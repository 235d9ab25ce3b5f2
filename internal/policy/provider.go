package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/credorisk/credo/internal/decision"
)

// DefaultPollInterval is how often a replica reads which version is active, whatever the bus
// says: with Redis down an activation reaches every replica within this plus a compile.
const DefaultPollInterval = 2 * time.Second

// ProviderConfig tunes a Provider.
type ProviderConfig struct {
	// PollInterval is how often the active version is read from the Store
	// (CREDO_POLICY_POLL_INTERVAL); DefaultPollInterval when 0.
	PollInterval time.Duration
	// Bootstrap is the policy folder stored as version 1 when there is no version at all
	// (policies.FS in production); nil stores nothing.
	Bootstrap fs.FS
	Log       *slog.Logger
	// Swapped, when set, is told each time this replica starts serving another version.
	Swapped func(from, to int)
}

// Provider is what a replica serves: the active version, compiled, behind an atomic pointer.
// Active is one atomic load; a decision that took a *decision.Policy finishes on it even if a
// new version is swapped in meanwhile, and its log names that version. The Provider follows
// activations through the Bus (milliseconds) and a poll of the Store (DefaultPollInterval),
// so a replica cut off from Redis still catches up.
type Provider struct {
	store   Store
	engines *Engines
	bus     Bus
	cfg     ProviderConfig
	log     *slog.Logger

	current atomic.Pointer[decision.Policy]
	wake    chan struct{}
	unsub   func()

	syncMu  sync.Mutex // one Sync at a time
	stateMu sync.Mutex
	active  Ref    // the active version the Store last named
	failure string // why the active version is not served, "" when it is
}

// NewProvider returns a provider reading versions from store and compiling them through
// engines; bus may be nil (one replica, or tests: the poll alone keeps it current).
func NewProvider(store Store, engines *Engines, bus Bus, cfg ProviderConfig) *Provider {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Provider{store: store, engines: engines, bus: bus, cfg: cfg, log: cfg.Log, wake: make(chan struct{}, 1)}
}

// Active is the version this replica serves now, nil before Load succeeded.
func (p *Provider) Active() *decision.Policy { return p.current.Load() }

// Engines is the compiled-version cache the provider shares with the Service.
func (p *Provider) Engines() *Engines { return p.engines }

// Load subscribes to activation notices, stores the bootstrap folder as version 1 when the Store
// holds no version, and compiles and serves the active version. It fails when no version can be
// served; call Run next to follow activations.
func (p *Provider) Load(ctx context.Context) error {
	if p.bus != nil && p.unsub == nil {
		p.unsub = p.bus.Subscribe(Topic, func([]byte, bool) { p.Notify() })
	}
	if p.cfg.Bootstrap != nil {
		created, err := Bootstrap(ctx, p.store, p.cfg.Bootstrap)
		if err != nil {
			return err
		}
		if created {
			p.log.Info("policy: no version was stored: the embedded policy is version 1, active")
		}
	}
	return p.Sync(ctx)
}

// Bootstrap stores a policy folder as version 1, active, when store holds no version, and
// reports whether it did. The folder must compile.
func Bootstrap(ctx context.Context, store Store, folder fs.FS) (bool, error) {
	modules, data, err := decision.ReadSource(folder)
	if err != nil {
		return false, err
	}
	eng, err := decision.Compile(ctx, modules, data, decision.Options{})
	if err != nil {
		return false, fmt.Errorf("the embedded policy: %w", err)
	}
	v := Version{Version: 1, Status: StatusActive, Author: BootstrapAuthor, Comment: "the default policy embedded in credo",
		Hash: eng.Hash(), Modules: modules, Data: data, Files: fileNames(modules)}
	return store.Bootstrap(ctx, v)
}

// Notify asks the provider to read the active version now (an activation notice arrived, or
// this replica activated one); it never blocks.
func (p *Provider) Notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run follows activations until ctx is done: on each notice and each poll it reads the active
// version and swaps it in when it changed.
func (p *Provider) Run(ctx context.Context) {
	defer func() {
		if p.unsub != nil {
			p.unsub()
		}
	}()
	t := time.NewTicker(p.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-t.C:
		}
		_ = p.Sync(ctx)
	}
}

// Sync reads which version is active and, when it is not the one served, compiles it (once per
// version) and swaps it in. When the active version cannot be served (it does not compile here,
// the Store does not answer) the replica keeps serving what it has, and says why on /readyz.
func (p *Provider) Sync(ctx context.Context) error {
	p.syncMu.Lock()
	defer p.syncMu.Unlock()
	ref, err := p.store.ActiveRef(ctx)
	if err == nil && ref.Version == 0 {
		err = errors.New("no policy version is active")
	}
	if err != nil {
		p.setState(Ref{}, err)
		return err
	}
	cur := p.current.Load()
	if cur != nil && cur.Version == ref.Version {
		p.setState(ref, nil)
		return nil
	}
	pol, err := p.engines.Get(ctx, ref.Version)
	if err != nil {
		p.setState(ref, err)
		return err
	}
	p.current.Store(pol)
	p.setState(ref, nil)
	from := 0
	if cur != nil {
		from = cur.Version
	}
	p.log.Info("policy: serving a new version", "policy_version", pol.Version, "policy_hash", pol.Engine.Hash(), "previous_version", from)
	if p.cfg.Swapped != nil {
		p.cfg.Swapped(from, pol.Version)
	}
	return nil
}

// setState records the outcome of a Sync, with one log line per change of failure.
func (p *Provider) setState(ref Ref, err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	p.stateMu.Lock()
	prev := p.failure
	if ref.Version != 0 {
		p.active = ref
	}
	p.failure = msg
	p.stateMu.Unlock()
	switch {
	case msg != "" && msg != prev:
		p.log.Error("policy: the active version cannot be served; this replica keeps what it serves", "err", err, "active_version", ref.Version)
	case msg == "" && prev != "":
		p.log.Info("policy: serving the active version again", "policy_version", ref.Version)
	}
}

// ServingState is what /readyz shows about the policy.
type ServingState struct {
	// Serving is the version this replica serves (0: none yet) and ServingHash its content hash.
	Serving     int
	ServingHash string
	// Active is the version the Store last named active; it differs from Serving while a new
	// version is being compiled, or when it cannot be served (Failure says why).
	Active  int
	Failure string
}

// Serving tells what this replica serves.
func (p *Provider) Serving() ServingState {
	p.stateMu.Lock()
	st := ServingState{Active: p.active.Version, Failure: p.failure}
	p.stateMu.Unlock()
	if cur := p.current.Load(); cur != nil {
		st.Serving, st.ServingHash = cur.Version, cur.Engine.Hash()
	}
	return st
}

// Readiness is the policy's part of /readyz: ready once a version is served.
func (p *Provider) Readiness() (map[string]any, error) {
	st := p.Serving()
	details := map[string]any{"policy_version": st.Serving}
	if st.Serving == 0 {
		if st.Failure != "" {
			return details, fmt.Errorf("no policy loaded: %s", st.Failure)
		}
		return details, errors.New("no policy loaded")
	}
	details["policy_hash"] = st.ServingHash
	if st.Active != 0 && st.Active != st.Serving {
		details["policy_active_version"] = st.Active
	}
	if st.Failure != "" {
		details["policy_error"] = st.Failure
	}
	return details, nil
}

// notice is the payload of an activation message (informative: receivers read the Store).
type notice struct {
	Version  int    `json:"version"`
	Previous int    `json:"previous,omitempty"`
	Actor    string `json:"actor"`
}

func (n notice) payload() []byte {
	b, _ := json.Marshal(n) // a struct of ints and strings always encodes
	return b
}
