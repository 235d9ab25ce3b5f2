package sanctions

import (
	"context"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// Screening returns a client's screening. A stored screening is returned while it is current (the
// client unchanged since, the lists the same or newer); otherwise the client is screened now and
// the result stored, so a caller never acts on a screening of old data. With no list loaded, or a
// name with nothing to screen, the status is StatusNotScreened.
func (s *Service) Screening(ctx context.Context, clientID string) (Screening, error) {
	sub, stored, err := s.store.Subject(ctx, clientID)
	if err != nil {
		return Screening{}, err
	}
	l := s.cur.Load()
	if stored != nil {
		mark := ScreeningMark{ListsSerial: stored.ListsSerial, ClientUpdatedAt: stored.ClientUpdatedAt}
		if l == nil && mark.ClientUpdatedAt.Equal(sub.UpdatedAt) || l != nil && mark.current(l.serial, sub.UpdatedAt) {
			return *stored, nil
		}
	}
	if l == nil {
		return notScreened(clientID), nil
	}
	scs, err := s.screenAndSave(ctx, l, []Subject{sub})
	if err != nil {
		return Screening{}, err
	}
	if len(scs) == 0 {
		return notScreened(clientID), nil
	}
	return scs[0], nil
}

// Status is a client's screening result, the decision policy's sanctions input.
func (s *Service) Status(ctx context.Context, clientID string) (Result, error) {
	sc, err := s.Screening(ctx, clientID)
	return sc.Result, err
}

func notScreened(clientID string) Screening {
	return Screening{Result: Result{ClientID: clientID, Status: StatusNotScreened, Hits: []Hit{}}, ListVersions: map[Source]int64{}}
}

// ClientIdentityChanged screens a client whose name, country or directors changed (the ledger's
// hook, run after the commit). A failure is logged and left to the background pass.
func (s *Service) ClientIdentityChanged(ctx context.Context, c ledger.Client) {
	if s.cur.Load() == nil {
		return
	}
	if _, err := s.Screening(ctx, c.ClientID); err != nil {
		s.log.Warn("sanctions: screening a changed client failed; the background pass will retry", "client_id", c.ClientID, "error", err.Error())
		s.ClientsChanged(ctx, []string{c.ClientID})
	}
}

// ClientsChanged queues clients whose data may have changed (the ledger's hook for writes and
// imports) for the background pass, which screens those whose screening is out of date.
func (s *Service) ClientsChanged(_ context.Context, clientIDs []string) {
	if !s.active.Load() || len(clientIDs) == 0 {
		return
	}
	s.pendMu.Lock()
	for _, id := range clientIDs {
		s.pending[id] = true
	}
	s.pendMu.Unlock()
	s.wake()
}

// requestFull asks the background pass to look at every client.
func (s *Service) requestFull() {
	s.pendMu.Lock()
	s.full = true
	s.pendMu.Unlock()
	s.wake()
}

func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default: // a pass is already due; it will see the new work
	}
}

// screenLoop is the background pass: one at a time, a batch of clients at a time, so that a list
// change over a large portfolio neither stalls requests nor holds memory.
func (s *Service) screenLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		}
		s.pendMu.Lock()
		ids := make([]string, 0, len(s.pending))
		for id := range s.pending {
			ids = append(ids, id)
		}
		clear(s.pending)
		full := s.full
		s.full = false
		s.pendMu.Unlock()
		l := s.cur.Load()
		if l == nil {
			continue
		}
		for len(ids) > 0 && ctx.Err() == nil {
			n := min(len(ids), s.cfg.Batch)
			if err := s.rescreen(ctx, l, StaleFilter{ListsSerial: l.serial, IDs: ids[:n], Limit: n}); err != nil {
				s.logPassError(ctx, err)
			}
			ids = ids[n:]
		}
		if full {
			s.rescreenAll(ctx, l)
		}
	}
}

// rescreenAll screens every client whose screening is out of date, page by page. It stops when
// the lists change meanwhile: their installation asked for a new pass.
func (s *Service) rescreenAll(ctx context.Context, l *lists) {
	after, total, changed := "", 0, 0
	for ctx.Err() == nil && s.cur.Load() == l {
		subs, err := s.store.StaleSubjects(ctx, StaleFilter{ListsSerial: l.serial, After: after, Limit: s.cfg.Batch})
		if err != nil {
			s.logPassError(ctx, err)
			return
		}
		if len(subs) == 0 {
			break
		}
		after = subs[len(subs)-1].Party.ClientID
		n, err := s.rescreenSubjects(ctx, l, subs)
		if err != nil {
			s.logPassError(ctx, err)
			return
		}
		total, changed = total+len(subs), changed+n
	}
	if total > 0 {
		s.log.Info("sanctions: clients rescreened", "clients", total, "changed", changed, "lists_serial", l.serial)
	}
}

func (s *Service) rescreen(ctx context.Context, l *lists, f StaleFilter) error {
	subs, err := s.store.StaleSubjects(ctx, f)
	if err != nil {
		return err
	}
	_, err = s.rescreenSubjects(ctx, l, subs)
	return err
}

func (s *Service) rescreenSubjects(ctx context.Context, l *lists, subs []Subject) (int, error) {
	if len(subs) == 0 {
		return 0, nil
	}
	changed, err := s.save(ctx, s.screenAll(l, subs))
	return len(changed), err
}

func (s *Service) logPassError(ctx context.Context, err error) {
	if ctx.Err() == nil {
		s.log.Warn("sanctions: background screening failed; the next pass will retry", "error", err.Error())
	}
}

// screenAndSave screens subjects and stores the results. A client that cannot be screened (a
// name with nothing to screen) is logged and left out.
func (s *Service) screenAndSave(ctx context.Context, l *lists, subs []Subject) ([]Screening, error) {
	scs := s.screenAll(l, subs)
	if _, err := s.save(ctx, scs); err != nil {
		return nil, err
	}
	return scs, nil
}

func (s *Service) screenAll(l *lists, subs []Subject) []Screening {
	out := make([]Screening, 0, len(subs))
	for _, sub := range subs {
		sc, err := s.screen(l, sub)
		if err != nil {
			s.log.Warn("sanctions: client cannot be screened", "client_id", sub.Party.ClientID, "error", err.Error())
			continue
		}
		out = append(out, sc)
	}
	return out
}

// save stores screenings and tells ScreeningChanged which clients' screening changed.
func (s *Service) save(ctx context.Context, scs []Screening) ([]string, error) {
	if len(scs) == 0 {
		return nil, nil
	}
	changed, err := s.store.SaveScreenings(ctx, scs, systemActor)
	if err != nil {
		return nil, err
	}
	if len(changed) > 0 && s.ScreeningChanged != nil {
		s.ScreeningChanged(ctx, changed)
	}
	return changed, nil
}

// screen screens one subject against the lists.
func (s *Service) screen(l *lists, sub Subject) (Screening, error) {
	res, err := ScreenParty(l.index, screenable(sub.Party), sub.Dispositions)
	if err != nil {
		return Screening{}, err
	}
	versions := make(map[Source]int64, len(l.versions))
	for src, v := range l.versions {
		versions[src] = v.ID
	}
	now := s.Now().UTC()
	return Screening{Result: res, ScreenedAt: &now, ListVersions: versions, ListsSerial: l.serial,
		ClientUpdatedAt: sub.UpdatedAt, Digest: digest(&res)}, nil
}

// screenable adapts a client's data to what the matcher accepts: control characters (the ledger
// allows tabs) become spaces, directors with nothing to screen ("-") and country codes the lists
// do not use are left out, rather than leaving the whole client unscreened.
func screenable(p Party) Party {
	clean := func(s string) string {
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, s)
		if utf8.RuneCountInString(s) > MaxNameLength {
			s = string([]rune(s)[:MaxNameLength])
		}
		return s
	}
	out := Party{ClientID: p.ClientID, Name: clean(p.Name), Country: p.Country}
	if !isCountryCode(out.Country) {
		out.Country = ""
	}
	for _, d := range p.Directors {
		d.Name = clean(d.Name)
		if len(normalizeName(d.Name, TypePerson)) == 0 {
			continue
		}
		if !isCountryCode(d.Country) {
			d.Country = ""
		}
		out.Directors = append(out.Directors, d)
	}
	return out
}

// Dispose records a reviewer's verdict on one hit of a client's current screening and returns the
// disposition with the client's screening after it. A false positive stays cleared for that
// client and entry until the entry's names change; a confirmed hit makes the client confirmed.
func (s *Service) Dispose(ctx context.Context, clientID, hitID string, verdict Verdict, note, actor string) (Disposition, Screening, error) {
	l, err := s.loaded()
	if err != nil {
		return Disposition{}, Screening{}, err
	}
	sc, err := s.Screening(ctx, clientID)
	if err != nil {
		return Disposition{}, Screening{}, err
	}
	var hit *Hit
	for _, hs := range [][]Hit{sc.Hits, sc.Cleared} {
		for i := range hs {
			if hs[i].ID == hitID {
				hit = &hs[i]
			}
		}
	}
	if hit == nil {
		return Disposition{}, Screening{}, fault.Errorf(fault.NotFound, "client %q has no hit %q in its current screening", clientID, hitID)
	}
	d, err := NewDisposition(clientID, *hit, verdict, note, actor, s.Now())
	if err != nil {
		return Disposition{}, Screening{}, err
	}
	if err := s.store.AddDisposition(ctx, d, actor); err != nil {
		return Disposition{}, Screening{}, err
	}
	sub, _, err := s.store.Subject(ctx, clientID)
	if err != nil {
		return d, Screening{}, err
	}
	scs, err := s.screenAndSave(ctx, l, []Subject{sub})
	if err != nil {
		return d, Screening{}, err
	}
	if len(scs) == 0 {
		return d, Screening{}, errors.New("the client could not be screened again after the disposition")
	}
	return d, scs[0], nil
}
