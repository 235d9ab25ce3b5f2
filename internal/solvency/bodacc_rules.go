package solvency

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/credorisk/credo/internal/ledger"
)

// This file turns BODACC "procédures collectives" notices into one insolvency state. The wording
// rules follow the jugement.nature values the bulletin actually publishes (Code de commerce, book
// VI); see README.md for the table and the reasons.

// action is what a judgment does to the company's proceeding.
type action int

const (
	actNone  action = iota // procedural notice, personal sanction, appeal: no change
	actOpen                // opening, conversion, extension, plan resolution, reopening
	actSale                // plan de cession: the business is sold, the debtor does not continue
	actPlan                // continuation plan adopted or modified: the company continues
	actClose               // clôture, end of proceeding
)

// judgment is a classified jugement.
type judgment struct {
	action       action
	kind         string
	lackOfAssets bool // clôture pour insuffisance d'actif: the company is wound up
}

// classifyJudgment reads nature first, then the first clause of complementJugement for generic
// natures ("Autre jugement prononçant", "Autre jugement d'ouverture"), then famille. known is false
// when no rule recognised the wording, so the caller can warn.
func classifyJudgment(famille, nature, complement string) (j judgment, known bool) {
	j, known = classifyText(foldFrench(nature))
	if !known || j.action == actOpen && j.kind == KindOther {
		c, cknown := classifyText(firstClause(foldFrench(complement)))
		switch {
		case !known && cknown:
			j, known = c, true
		case known && c.action == actOpen && c.kind != KindOther:
			j.kind = c.kind // "Autre jugement d'ouverture" whose text names the proceeding
		}
	}
	if !known {
		switch f := foldFrench(famille); {
		case strings.Contains(f, "ouverture"):
			return judgment{action: actOpen, kind: KindOther}, true
		case strings.Contains(f, "cloture"):
			return judgment{action: actClose}, true
		}
	}
	return j, known
}

// firstClause is the text up to the first sentence or clause break: complementJugement starts
// with the judgment ("Jugement prononçant la liquidation judiciaire, date de cessation des
// paiements le ..., désignant liquidateur ...") and the rest must not be read as wording.
func firstClause(t string) string {
	if i := strings.IndexAny(t, ".,;("); i >= 0 {
		t = t[:i]
	}
	if i := strings.Index(t, " - "); i >= 0 {
		t = t[:i]
	}
	return strings.TrimSpace(t)
}

// classifyText applies the wording rules, in this order, to folded text.
func classifyText(t string) (judgment, bool) {
	has := func(s ...string) bool {
		for _, x := range s {
			if strings.Contains(t, x) {
				return true
			}
		}
		return false
	}
	switch {
	case t == "":
		return judgment{}, false
	// Procedural notices within a case, sanctions on managers, appeals and retractions say
	// nothing certain about the company's state (retractions are applied as corrections).
	case has("creances", "depot", "designation des organes", "modifiant la date de cessation",
		"faillite personnelle", "interdiction de gerer", "cour d'appel", "infirm", "retractation",
		"delai", "prorogation", "dessaisissement"):
		return judgment{}, true
	case has("cloture", "mettant fin a la procedure"):
		kind := kindOf(t)
		if kind == KindOther && has("insuffisance d'actif", "extinction du passif") {
			kind = KindLiquidation // these closures end a liquidation (L. 643-9)
		}
		return judgment{action: actClose, kind: kind, lackOfAssets: has("insuffisance d'actif")}, true
	case has("reprise de la procedure de liquidation", "reprise des operations de liquidation"):
		return judgment{action: actOpen, kind: KindLiquidation}, true
	case has("resolution du plan"):
		// "résolution du plan de sauvegarde et le redressement judiciaire": the new proceeding is
		// named after the last " et "; a bare resolution leaves it unnamed.
		kind := KindOther
		if i := strings.LastIndex(t, " et "); i >= 0 {
			kind = kindOf(t[i:])
		}
		return judgment{action: actOpen, kind: kind}, true
	case has("plan de cession"):
		return judgment{action: actSale}, true
	case has("plan"):
		kind := kindOf(t)
		if kind == KindOther && has("continuation") {
			kind = KindReceivership
		}
		return judgment{action: actPlan, kind: kind}, true
	case has("conversion"):
		rest := t
		if i := strings.Index(t, "conversion"); i >= 0 {
			rest = t[i:]
		}
		return judgment{action: actOpen, kind: kindOf(rest)}, true
	case has("ouverture", "extension", "prononcant", "sauvegarde", "redressement judiciaire", "liquidation judiciaire"):
		if strings.HasPrefix(t, "autre jugement prononcant") {
			return judgment{}, false // generic: the complement tells
		}
		return judgment{action: actOpen, kind: kindOf(t)}, true
	}
	return judgment{}, false
}

// kindOf names the proceeding a text speaks of; liquidation first, since conversions name both
// ("conversion en liquidation judiciaire de la procédure de sauvegarde").
func kindOf(t string) string {
	switch {
	case strings.Contains(t, "liquidation"):
		return KindLiquidation
	case strings.Contains(t, "redressement"):
		return KindReceivership
	case strings.Contains(t, "sauvegarde"):
		return KindSafeguard
	}
	return KindOther
}

// notice is one BODACC collective-proceeding notice, reduced to what the rules need.
type notice struct {
	key        string // publication letter + parution number + notice number, e.g. "A202401231525"
	typeAvis   string // annonce, rectificatif, annulation
	published  ledger.Date
	judged     ledger.Date // judgment date, or the publication date when the notice gives none
	number     int
	famille    string
	nature     string
	complement string
	ref        string // key of the notice a correction applies to
}

// insolvencyState is the result of folding notices.
type insolvencyState struct {
	insolvency    Insolvency
	companyClosed bool // the last event wound the company up (liquidation closed for lack of assets)
	warnings      []string
}

// foldNotices applies corrections (rectificatif replaces, annulation and rétractation remove, and
// cancelling a rectificatif restores what it replaced) in publication order, then plays the
// remaining judgments in judgment order.
func foldNotices(ns []notice) insolvencyState {
	var st insolvencyState
	byPublication := slices.Clone(ns)
	slices.SortStableFunc(byPublication, func(a, b notice) int {
		return cmp.Or(cmp.Compare(a.published, b.published), cmp.Compare(a.number, b.number))
	})
	live := map[string]notice{}
	replaced := map[string]notice{} // rectification key -> the notice it replaced
	for _, n := range byPublication {
		retraction := strings.Contains(foldFrench(n.famille), "retractation") || strings.Contains(foldFrench(n.nature), "retractation")
		switch {
		case n.typeAvis == "annulation" || retraction:
			if _, ok := live[n.ref]; !ok {
				st.warnings = append(st.warnings, fmt.Sprintf("BODACC %s %s refers to notice %q, not found", n.key, n.typeAvis, n.ref))
				continue
			}
			delete(live, n.ref)
			// Cancelling a rectification restores what it had replaced: the correction, not the
			// original judgment, was published in error.
			if orig, ok := replaced[n.ref]; ok {
				live[orig.key] = orig
			}
		case n.typeAvis == "rectificatif":
			if orig, ok := live[n.ref]; ok {
				replaced[n.key] = orig
				delete(live, n.ref)
			}
			live[n.key] = n // the rectification carries the full corrected notice
		default:
			live[n.key] = n
		}
	}
	kept := make([]notice, 0, len(live))
	for _, n := range live {
		kept = append(kept, n)
	}
	slices.SortFunc(kept, func(a, b notice) int {
		return cmp.Or(cmp.Compare(a.judged, b.judged), cmp.Compare(a.published, b.published),
			cmp.Compare(a.number, b.number), cmp.Compare(a.key, b.key))
	})

	ins := &st.insolvency
	for _, n := range kept {
		j, known := classifyJudgment(n.famille, n.nature, n.complement)
		if !known {
			st.warnings = append(st.warnings, fmt.Sprintf("BODACC %s: judgment wording %q not recognised, ignored", n.key, n.nature))
			continue
		}
		d := n.judged
		switch j.action {
		case actOpen:
			*ins = Insolvency{Open: true, Kind: j.kind, JudgmentDate: &d, Nature: n.nature}
			st.companyClosed = false
		case actSale:
			kind := ins.Kind
			if !ins.Open || kind == "" {
				kind = KindOther
			}
			*ins = Insolvency{Open: true, Kind: kind, JudgmentDate: &d, Nature: n.nature}
		case actPlan:
			kind := j.kind
			if kind == KindOther && ins.Kind != "" {
				kind = ins.Kind
			}
			*ins = Insolvency{Plan: true, Kind: kind, JudgmentDate: &d, Nature: n.nature}
		case actClose:
			kind := ins.Kind
			if kind == "" {
				kind = j.kind
			}
			opened := ins.JudgmentDate
			*ins = Insolvency{Kind: kind, JudgmentDate: opened, ClosedDate: &d, Nature: n.nature}
			st.companyClosed = j.lackOfAssets
		}
	}
	return st
}
