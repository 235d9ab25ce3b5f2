package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/fault"
)

// Service is the policy lifecycle a credit manager drives: drafts, tests, diffs, replays,
// activation and rollback.
type Service struct {
	Store Store
	// Decisions is the decision log replay reads.
	Decisions DecisionLog
	// Engines compiles versions for activation; share the Provider's so that the version
	// activated here is compiled once.
	Engines *Engines
	// ReplayEngines compiles versions for replay, with ReplayOptions; Engines when nil.
	ReplayEngines *Engines
	// Provider, when set, is this replica's: an activation here swaps it at once.
	Provider *Provider
	// Bus, when set, tells the other replicas about an activation.
	Bus Bus
	// FourEyes refuses an activation by the version's own author (CREDO_POLICY_FOUR_EYES).
	FourEyes bool
	// CompileOptions are the engine options drafts are validated with.
	CompileOptions decision.Options
	// ReplayWorkers is the number of evaluating goroutines of a replay; GOMAXPROCS when 0
	// (CREDO_POLICY_REPLAY_WORKERS: fewer leave cores to the decisions this replica serves).
	ReplayWorkers int
	// ReplayTimeout bounds a replay requested through the API (CREDO_POLICY_REPLAY_TIMEOUT).
	ReplayTimeout time.Duration
	Log           *slog.Logger

	replaying sync.Mutex // one replay at a time on a replica: it takes every core it is given
}

func (s *Service) logger() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Get reads one version with its modules and data.
func (s *Service) Get(ctx context.Context, version int) (Version, error) {
	return s.Store.Get(ctx, version)
}

// List lists versions, newest first, without their modules and data.
func (s *Service) List(ctx context.Context, f ListFilter) ([]Version, error) {
	switch f.Status {
	case "", StatusDraft, StatusActive, StatusRetired:
	default:
		return nil, &fault.Error{Code: fault.BadRequest, Message: "bad query parameter",
			Fields: []fault.FieldError{fault.Field("status", "must be draft, active or retired")}}
	}
	return s.Store.List(ctx, f)
}

// Active reads the active version (fault.NotFound before the first start stored one).
func (s *Service) Active(ctx context.Context) (Version, error) {
	ref, err := s.Store.ActiveRef(ctx)
	if err != nil {
		return Version{}, err
	}
	if ref.Version == 0 {
		return Version{}, fault.Errorf(fault.NotFound, "no policy version is active")
	}
	return s.Store.Get(ctx, ref.Version)
}

// Diff compares version with against (its parent when against is 0).
func (s *Service) Diff(ctx context.Context, version, against int) (DiffReport, error) {
	to, err := s.Store.Get(ctx, version)
	if err != nil {
		return DiffReport{}, err
	}
	if against == 0 {
		if to.Parent == nil {
			return DiffReport{}, &fault.Error{Code: fault.BadRequest, Message: "bad query parameter",
				Fields: []fault.FieldError{fault.Field("against", "version %d has no parent: name the version to compare with", version)}}
		}
		against = *to.Parent
	}
	from, err := s.Store.Get(ctx, against)
	if fault.Code(err) == fault.NotFound {
		return DiffReport{}, fault.Validation("no such version to compare with", fault.Field("against", "no policy version %d", against))
	}
	if err != nil {
		return DiffReport{}, err
	}
	return diffVersions(from, to), nil
}

// TestReport is the result of running a version's tests.
type TestReport struct {
	Version int `json:"version"`
	// Passed is true when at least one test ran and none failed or erred.
	Passed bool             `json:"passed"`
	Counts TestCounts       `json:"counts"`
	Tests  []TestResultView `json:"tests"`
}

// TestCounts counts the tests by result.
type TestCounts struct {
	Pass  int `json:"pass"`
	Fail  int `json:"fail"`
	Error int `json:"error"`
	Skip  int `json:"skip"`
}

// TestResultView is one test's result as the API shows it.
type TestResultView struct {
	Name       string  `json:"name"`
	Result     string  `json:"result"`
	DurationMS float64 `json:"duration_ms"`
	Message    string  `json:"message,omitempty"`
	File       string  `json:"file,omitempty"`
	Line       int     `json:"line,omitempty"`
	Output     string  `json:"output,omitempty"`
}

// RunTests runs the *_test.rego of a set of modules and summarises them: the offline
// `credo policy test --dir` and the API share it.
func RunTests(ctx context.Context, modules map[string]string, data []byte) (TestReport, error) {
	results, err := decision.RunTests(ctx, modules, data)
	if err != nil {
		return TestReport{}, err
	}
	rep := TestReport{Tests: make([]TestResultView, 0, len(results))}
	for _, r := range results {
		switch r.Result {
		case decision.TestPass:
			rep.Counts.Pass++
		case decision.TestFail:
			rep.Counts.Fail++
		case decision.TestError:
			rep.Counts.Error++
		case decision.TestSkip:
			rep.Counts.Skip++
		}
		rep.Tests = append(rep.Tests, TestResultView{Name: r.Name, Result: r.Result,
			DurationMS: float64(r.Duration.Microseconds()) / 1000, Message: r.Message, File: r.File, Line: r.Line, Output: r.Output})
	}
	rep.Passed = rep.Counts.Pass > 0 && rep.Counts.Fail == 0 && rep.Counts.Error == 0
	return rep, nil
}

// Test runs a version's tests and records the run in the audit log.
func (s *Service) Test(ctx context.Context, version int, actor string) (TestReport, error) {
	v, err := s.Store.Get(ctx, version)
	if err != nil {
		return TestReport{}, err
	}
	rep, err := RunTests(ctx, v.Modules, v.Data)
	if err != nil {
		return TestReport{}, fmt.Errorf("policy version %d: %w", version, err)
	}
	rep.Version = version
	if err := s.Store.Audit(ctx, actor, "policy.test", version, map[string]any{"passed": rep.Passed, "counts": rep.Counts}); err != nil {
		return TestReport{}, err
	}
	return rep, nil
}

// ActivationResult is what an activation did.
type ActivationResult struct {
	Version Version `json:"version"`
	// Previous is the version it retired (0: none was active).
	Previous int `json:"previous"`
	// Rollback is true when the version had been active before.
	Rollback bool       `json:"rollback"`
	Tests    TestCounts `json:"tests"`
}

// Activate makes a version the one every replica serves, and the active one retired. It is
// refused (and the refusal audited) when the version is already active, when four-eyes is on and
// actor wrote it (fault.Forbidden), and unless its tests pass (fault.Invalid, naming the tests).
// Activating a retired version is the rollback.
func (s *Service) Activate(ctx context.Context, version int, comment, actor string) (ActivationResult, error) {
	if err := checkComment("comment", comment); err != nil {
		return ActivationResult{}, err
	}
	v, err := s.Store.Get(ctx, version)
	if err != nil {
		return ActivationResult{}, err
	}
	refuse := func(err error) (ActivationResult, error) {
		if aerr := s.Store.Audit(ctx, actor, "policy.activate_refused", version, map[string]any{"reason": err.Error()}); aerr != nil {
			return ActivationResult{}, errors.Join(err, aerr)
		}
		return ActivationResult{}, err
	}
	switch {
	case v.Status == StatusActive:
		return ActivationResult{}, fault.Errorf(fault.Conflict, "policy version %d is already active", version)
	case s.FourEyes && v.Author == actor:
		return refuse(fault.Errorf(fault.Forbidden, "four-eyes: version %d was written by %s, so another key must activate it", version, actor))
	}
	rep, err := RunTests(ctx, v.Modules, v.Data)
	if err != nil {
		return refuse(fmt.Errorf("policy version %d: %w", version, err))
	}
	if !rep.Passed {
		return refuse(testsFailed(version, rep))
	}
	// Compile before activating: every replica is about to, and a version this build cannot
	// compile must not become the one they are told to serve.
	if _, err := s.Engines.Get(ctx, version); err != nil {
		return refuse(err)
	}
	previous, err := s.Store.Activate(ctx, Activation{Version: version, Actor: actor, Comment: comment,
		Detail: map[string]any{"previous_status": v.Status, "tests": rep.Counts, "rollback": v.Status == StatusRetired}})
	if err != nil {
		return ActivationResult{}, err
	}
	s.announce(ctx, notice{Version: version, Previous: previous, Actor: actor})
	rollback := v.Status == StatusRetired
	if v, err = s.Store.Get(ctx, version); err != nil {
		return ActivationResult{}, err
	}
	return ActivationResult{Version: v, Previous: previous, Rollback: rollback, Tests: rep.Counts}, nil
}

// announce swaps this replica's version and tells the others. Neither can fail the activation:
// it is committed, and every replica's poll reads it anyway.
func (s *Service) announce(ctx context.Context, n notice) {
	if s.Provider != nil {
		if err := s.Provider.Sync(ctx); err != nil {
			s.logger().Error("policy: activated, but this replica cannot serve it yet", "policy_version", n.Version, "err", err)
		}
	}
	if s.Bus == nil {
		return
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := s.Bus.Publish(pctx, Topic, n.payload()); err != nil {
		s.logger().Warn("policy: activation notice not published: other replicas catch up through their poll",
			"policy_version", n.Version, "err", err)
	}
}

// testsFailed lists the tests that stop an activation.
func testsFailed(version int, rep TestReport) error {
	if rep.Counts.Pass+rep.Counts.Fail+rep.Counts.Error == 0 {
		return fault.Validation(fmt.Sprintf("policy version %d cannot be activated: it has no test", version),
			fault.Field("tests", "a version needs at least one passing test_* rule in a *_test.rego file"))
	}
	var fields []fault.FieldError
	for _, t := range rep.Tests {
		if t.Result == decision.TestFail || t.Result == decision.TestError {
			msg := t.Result
			if t.Message != "" {
				msg += ": " + t.Message
			}
			fields = append(fields, fault.FieldError{Field: t.Name, Message: msg, Line: t.Line})
		}
	}
	return fault.Validation(fmt.Sprintf("policy version %d cannot be activated: %d of its tests do not pass", version, len(fields)), fields...)
}
